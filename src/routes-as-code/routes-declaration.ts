import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { BODY_VALIDATION, FieldProblem, validationProblems } from '../common/validation-problems';
import { checkCreateBody, SourceDefinition } from '../sources/dto/source-body';
import { SourceRegistry } from '../sources/source-registry';
import { CreateSubscriptionDto } from '../subscriptions/dto/create-subscription.dto';
import { RoutesFile, SECRET_LITERAL_PROBLEM } from './routes-file';

export interface DeclaredSource {
  key: string;
  /** As the admin API's create body; its settings checked by the kind's plug-in. */
  definition: SourceDefinition;
  /** Whether the entry passed the body's rules (only then are the services' checks worth running). */
  valid: boolean;
}

export interface DeclaredSubscription {
  key: string;
  /** As the admin API takes it, but for `sourceIds`: the file names its sources by key. */
  dto: CreateSubscriptionDto;
  /** Keys of the file's sources; null: events from every source. */
  sourceKeys: string[] | null;
  /** Whether the file sets the signing secret; else the router made one at create. */
  declaresSecret: boolean;
  valid: boolean;
}

export interface Declarations {
  sources: DeclaredSource[];
  subscriptions: DeclaredSubscription[];
  problems: FieldProblem[];
}

/**
 * The file's entries as the admin API's create bodies, checked by the same rules as its request
 * bodies (unknown fields refused; each kind's settings by its plug-in); `name` defaults to the
 * key. Problems carry their path in the file.
 */
export async function declarationsOf(
  file: RoutesFile,
  registry: SourceRegistry,
): Promise<Declarations> {
  const declarations: Declarations = { sources: [], subscriptions: [], problems: [] };
  for (const [key, entry] of file.sources) {
    const field = `sources.${key}`;
    const body = { name: key, ...entry };
    const checked = await checkCreateBody(body, (kind) =>
      registry.get(kind) ? registry.settingsOf(kind) : null,
    );
    const problems = [
      ...secretLiterals(file, field, entry, registry),
      ...checked.problems.map((problem) => ({ ...problem, field: `${field}.${problem.field}` })),
    ];
    declarations.problems.push(...problems);
    declarations.sources.push({
      key,
      definition: checked.value ?? { kind: String(entry.kind), name: key, settings: {} },
      valid: problems.length === 0,
    });
  }
  for (const [key, entry] of file.subscriptions) {
    const { sources, ...fields } = entry;
    const field = `subscriptions.${key}`;
    const sourceKeys = sourceKeysOf(sources, field, file, declarations.problems);
    if ('sourceIds' in fields) {
      declarations.problems.push({
        field: `${field}.sourceIds`,
        problems: ['name the sources by their key in this file instead: sources: [<key>, …]'],
      });
      delete fields.sourceIds;
    }
    const dto = plainToInstance(CreateSubscriptionDto, { name: key, ...fields });
    const problems = await problemsOf(dto, field);
    declarations.problems.push(...problems);
    declarations.subscriptions.push({
      key,
      dto,
      sourceKeys,
      declaresSecret: fields.secret !== undefined && fields.secret !== null,
      valid: problems.length === 0,
    });
  }
  return declarations;
}

/** The kind's secret settings given as anything but one `${NAME}` reference. */
function secretLiterals(
  file: RoutesFile,
  field: string,
  entry: Record<string, unknown>,
  registry: SourceRegistry,
): FieldProblem[] {
  const secrets = typeof entry.kind === 'string' ? registry.settingsOf(entry.kind).secrets : [];
  return (secrets ?? [])
    .filter((name) => entry[name] !== undefined && entry[name] !== null)
    .filter((name) => !file.envReferences.has(`${field}.${name}`))
    .map((name) => ({ field: `${field}.${name}`, problems: [SECRET_LITERAL_PROBLEM] }));
}

async function problemsOf(dto: object, field: string): Promise<FieldProblem[]> {
  return validationProblems(await validate(dto, BODY_VALIDATION), field);
}

function sourceKeysOf(
  value: unknown,
  field: string,
  file: RoutesFile,
  problems: FieldProblem[],
): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) {
    problems.push({ field: `${field}.sources`, problems: ['must be a list of source keys'] });
    return null;
  }
  value.forEach((key, index) => {
    if (typeof key !== 'string' || !file.sources.has(key)) {
      problems.push({
        field: `${field}.sources[${index}]`,
        problems: [`no source ${JSON.stringify(key)} in this file`],
      });
    }
  });
  return [...new Set(value.filter((key): key is string => typeof key === 'string'))];
}
