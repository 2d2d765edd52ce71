import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { isRecord, JsonRecord } from '../canonical/coerce';
import { FieldProblem } from '../common/validation-problems';

/** Where the routes file is looked for when ROUTES_FILE is unset (relative to the working directory). */
export const DEFAULT_ROUTES_FILE = 'config/routes.yaml';

/** A stable name: what a source or subscription is known by in the file, and across applies. */
export const ROUTES_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/**
 * Fields that hold a secret: the file names an environment variable, never the value. A
 * source's secrets depend on its kind, so they are checked with its plug-in (declarationsOf).
 */
export const SECRET_FIELDS = { sources: [], subscriptions: ['secret'] } as const;

/** The problem of a secret field holding anything but one `${NAME}` reference. */
export const SECRET_LITERAL_PROBLEM =
  'must be an environment reference such as ${CRM_SIGNING_SECRET}: secrets never live in the routes file';

const SECTIONS = ['sources', 'subscriptions'] as const;
type Section = (typeof SECTIONS)[number];

/** `${NAME}`; `$${` stands for a literal `${`. */
const ENV_REFERENCE = /\$\$\{|\$\{([^}]*)\}?/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The file as declared: each section's entries by key, environment references resolved. */
export interface RoutesFile {
  path: string;
  sources: Map<string, JsonRecord>;
  subscriptions: Map<string, JsonRecord>;
  /** Paths of the entries' fields written as one `${NAME}` (`sources.chatwoot.signingSecret`). */
  envReferences: Set<string>;
}

/** Everything wrong with a routes file, each problem under its path in the file. */
export class RoutesFileError extends Error {
  constructor(
    readonly path: string,
    readonly problems: FieldProblem[],
  ) {
    super(`${path}: ${problems.length} problem(s)`);
    this.name = 'RoutesFileError';
  }
}

/** The file to apply: ROUTES_FILE when set, else config/routes.yaml when it exists, else null. */
export function routesFilePath(configured: string | undefined, cwd = process.cwd()): string | null {
  if (configured) return resolve(cwd, configured);
  const fallback = resolve(cwd, DEFAULT_ROUTES_FILE);
  return existsSync(fallback) ? fallback : null;
}

/** Reads, parses and checks the shape of a routes file, resolving `${NAME}` from `env`. */
export function readRoutesFile(path: string, env: Record<string, string | undefined>): RoutesFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RoutesFileError(path, [
      { field: '(file)', problems: [`cannot be read: ${(error as Error).message}`] },
    ]);
  }
  return parseRoutes(path, text, env);
}

export function parseRoutes(
  path: string,
  text: string,
  env: Record<string, string | undefined>,
): RoutesFile {
  const document = parseDocument(text, { uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new RoutesFileError(path, document.errors.map(yamlProblem));
  }
  const root: unknown = document.toJS();
  const problems: FieldProblem[] = [];
  const file: RoutesFile = {
    path,
    sources: new Map(),
    subscriptions: new Map(),
    envReferences: new Set(),
  };
  if (!isRecord(root)) {
    problems.push({
      field: '(file)',
      problems: [
        'must be a map with sources and subscriptions (write `sources: {}` to declare none)',
      ],
    });
    throw new RoutesFileError(path, problems);
  }
  for (const name of Object.keys(root)) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      problems.push({
        field: name,
        problems: ['unknown section: the file has sources and subscriptions'],
      });
    }
  }
  for (const section of SECTIONS) {
    readSection(root[section], section, file, env, problems);
  }
  if (problems.length > 0) throw new RoutesFileError(path, problems);
  return file;
}

function yamlProblem(error: {
  message: string;
  linePos?: [{ line: number; col: number }, ...unknown[]];
}): FieldProblem {
  const position = error.linePos?.[0];
  const message = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return {
    field: position ? `line ${position.line}, column ${position.col}` : '(yaml)',
    problems: [message],
  };
}

function readSection(
  value: unknown,
  section: Section,
  file: RoutesFile,
  env: Record<string, string | undefined>,
  problems: FieldProblem[],
): void {
  if (value === undefined || value === null) return;
  if (!isRecord(value)) {
    problems.push({ field: section, problems: ['must be a map of entries by key'] });
    return;
  }
  for (const [key, entry] of Object.entries(value)) {
    const field = `${section}.${key}`;
    if (!ROUTES_KEY_PATTERN.test(key)) {
      problems.push({
        field,
        problems: [
          'a key holds 1 to 100 letters, digits, _, . and -, and starts with a letter or digit',
        ],
      });
      continue;
    }
    if (!isRecord(entry)) {
      problems.push({ field, problems: ['must be a map of fields'] });
      continue;
    }
    const secretProblems = secretLiterals(entry, section, field);
    problems.push(...secretProblems);
    if (secretProblems.length > 0) continue;
    for (const [name, fieldValue] of Object.entries(entry)) {
      if (isEnvReference(fieldValue)) file.envReferences.add(`${field}.${name}`);
    }
    file[section].set(key, resolveReferences(entry, field, env, problems) as JsonRecord);
  }
}

/** A secret field holding anything but one `${NAME}` reference. */
function secretLiterals(entry: JsonRecord, section: Section, field: string): FieldProblem[] {
  return (SECRET_FIELDS[section] as readonly string[])
    .filter((name) => entry[name] !== undefined && entry[name] !== null)
    .filter((name) => !isEnvReference(entry[name]))
    .map((name) => ({ field: `${field}.${name}`, problems: [SECRET_LITERAL_PROBLEM] }));
}

function isEnvReference(value: unknown): boolean {
  const name = typeof value === 'string' ? /^\$\{([^}]*)\}$/.exec(value.trim())?.[1] : undefined;
  return name !== undefined && ENV_NAME.test(name);
}

/** A copy of `value` with `${NAME}` replaced in every string; unset or empty names are problems. */
function resolveReferences(
  value: unknown,
  field: string,
  env: Record<string, string | undefined>,
  problems: FieldProblem[],
): unknown {
  if (typeof value === 'string') return resolveString(value, field, env, problems);
  if (Array.isArray(value)) {
    return value.map((item, index) => resolveReferences(item, `${field}[${index}]`, env, problems));
  }
  if (isRecord(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        resolveReferences(item, `${field}.${key}`, env, problems),
      ]),
    );
  }
  return value;
}

function resolveString(
  text: string,
  field: string,
  env: Record<string, string | undefined>,
  problems: FieldProblem[],
): string {
  return text.replace(ENV_REFERENCE, (match, name: string | undefined) => {
    if (match === '$${') return '${';
    if (!match.endsWith('}') || name === undefined || !ENV_NAME.test(name)) {
      problems.push({
        field,
        problems: [`${match} is not an environment reference: write \${NAME} (letters, digits, _)`],
      });
      return match;
    }
    const resolved = env[name];
    if (resolved === undefined || resolved === '') {
      problems.push({ field, problems: [`environment variable ${name} is not set`] });
      return match;
    }
    return resolved;
  });
}
