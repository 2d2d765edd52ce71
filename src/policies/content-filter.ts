import {
  $all,
  $and,
  $elemMatch,
  $eq,
  $exists,
  $gt,
  $gte,
  $in,
  $lt,
  $lte,
  $mod,
  $ne,
  $nin,
  $nor,
  $not,
  $options,
  $or,
  $size,
  $type,
  createEqualsOperation,
  createQueryTester,
} from 'sift';
import { compileLinearRegex, linearRegexProblem } from './linear-regex';

/** A MongoDB-query-syntax object evaluated against the canonical event (see docs/filters). */
export type ContentFilter = Record<string, unknown>;

export const MAX_FILTER_BYTES = 16 * 1024;
export const MAX_FILTER_DEPTH = 20;
export const MAX_REGEX_LENGTH = 500;

/** sift's `$regex` on RE2 instead of JavaScript's backtracking RegExp (see linear-regex.ts). */
const $regex = (
  pattern: string,
  ownerQuery: { $options?: string },
  options: Parameters<typeof createEqualsOperation>[2],
) => {
  const regex = compileLinearRegex(pattern, ownerQuery.$options ?? '');
  return createEqualsOperation(
    (value: unknown) => typeof value === 'string' && regex.test(value),
    ownerQuery,
    options,
  );
};

/**
 * The only operations sift may build. Passed explicitly, so `$where` (which sift turns into
 * `new Function(...)`) cannot run even on a filter that skipped validation.
 */
const OPERATIONS = {
  $all,
  $and,
  $elemMatch,
  $eq,
  $exists,
  $gt,
  $gte,
  $in,
  $lt,
  $lte,
  $mod,
  $ne,
  $nin,
  $nor,
  $not,
  $options,
  $or,
  $regex,
  $size,
  $type,
};

const REFUSED = new Map([
  ['$where', 'it would run JavaScript taken from the filter'],
  ['$function', 'server-side code is not supported'],
  ['$accumulator', 'server-side code is not supported'],
  ['$expr', 'aggregation expressions are not supported'],
]);

// sift's own $type aliases, minus `timestamp` (a Date never occurs in JSON); any other value
// throws on every event.
const TYPE_ALIASES = ['number', 'string', 'bool', 'array', 'null'];

/** What is wrong with a filter, in words for the API caller; empty when it is usable. */
export function contentFilterProblems(filter: unknown): string[] {
  if (!isPlainObject(filter)) return ['filter must be a JSON object'];

  const problems: string[] = [];
  walk(filter, '', 1, problems);
  if (problems.length) return problems;

  const bytes = Buffer.byteLength(JSON.stringify(filter));
  if (bytes > MAX_FILTER_BYTES) {
    return [`filter is ${bytes} bytes of JSON, more than the ${MAX_FILTER_BYTES} allowed`];
  }

  try {
    createQueryTester(filter, { operations: OPERATIONS });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const unsupported = /^Unsupported operation: (.*)$/.exec(message);
    return [
      unsupported
        ? `filter uses unsupported operator ${unsupported[1]}`
        : `filter does not compile: ${message}`,
    ];
  }
  return [];
}

/**
 * Compiles a filter once into a predicate for every event. Throws on an invalid filter; the
 * predicate itself never throws (an event it cannot evaluate does not match).
 */
export function compileContentFilter(filter: ContentFilter): (event: unknown) => boolean {
  const problems = contentFilterProblems(filter);
  if (problems.length) throw new Error(`invalid content filter: ${problems.join('; ')}`);
  const test = createQueryTester(filter, { operations: OPERATIONS });
  return (event) => {
    try {
      return test(event);
    } catch {
      return false;
    }
  };
}

function walk(value: unknown, path: string, depth: number, problems: string[]): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) problems.push(`filter has a non-JSON number at ${at(path)}`);
    return;
  }
  if (!Array.isArray(value) && !isPlainObject(value)) {
    problems.push(`filter has a non-JSON value at ${at(path)}`);
    return;
  }
  if (depth > MAX_FILTER_DEPTH) {
    problems.push(`filter is nested deeper than ${MAX_FILTER_DEPTH} levels at ${at(path)}`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}[${index}]`, depth + 1, problems));
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key.startsWith('$')) operatorProblems(key, child, value, childPath, problems);
    walk(child, childPath, depth + 1, problems);
  }
}

function operatorProblems(
  operator: string,
  value: unknown,
  owner: Record<string, unknown>,
  path: string,
  problems: string[],
): void {
  const refusal = REFUSED.get(operator);
  if (refusal) {
    problems.push(`filter uses ${operator} at ${at(path)}, which is refused: ${refusal}`);
    return;
  }
  switch (operator) {
    case '$regex': {
      if (typeof value !== 'string') {
        problems.push(`filter $regex at ${at(path)} must be a string`);
      } else if (value.length > MAX_REGEX_LENGTH) {
        problems.push(`filter $regex at ${at(path)} is longer than ${MAX_REGEX_LENGTH} characters`);
      } else {
        const problem = regexProblem(value, validFlags(owner.$options) ? owner.$options : '');
        if (problem) problems.push(`filter $regex at ${at(path)} ${problem}`);
      }
      return;
    }
    case '$options':
      if (!validFlags(value)) {
        problems.push(
          `filter $options at ${at(path)} may only hold the letters i, m, s and u, once each`,
        );
      } else if (!('$regex' in owner)) {
        problems.push(`filter $options at ${at(path)} needs a $regex beside it`);
      }
      return;
    case '$type':
      if (typeof value !== 'string' || !TYPE_ALIASES.includes(value)) {
        problems.push(`filter $type at ${at(path)} must be one of ${TYPE_ALIASES.join(', ')}`);
      }
      return;
  }
}

/** Valid JavaScript (the syntax filters are written in) that RE2 can also run. */
function regexProblem(pattern: string, flags: string): string | undefined {
  try {
    new RegExp(pattern, flags);
  } catch (error) {
    return `is not a valid regular expression: ${(error as Error).message}`;
  }
  return linearRegexProblem(pattern, flags);
}

function validFlags(flags: unknown): flags is string {
  return (
    typeof flags === 'string' && /^[imsu]*$/.test(flags) && new Set(flags).size === flags.length
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.getPrototypeOf(value) === Object.prototype;
}

function at(path: string): string {
  return path || 'the top level';
}
