import fc from 'fast-check';
import { isRecord, JsonRecord } from '../../canonical/coerce';

/** Strings that mean something to some reader everywhere: blanks, far-future and real dates, phones. */
const COMMON_AWKWARD_STRINGS = [
  '',
  ' ',
  '300000000000000',
  '+275760-09-13T00:00:00.000Z',
  '2026-04-16T14:05:40.913Z',
  '+14084987855',
  '8 916 123-45-67',
];

/** Numbers that have broken date and id handling: epochs, far-future ms, huge ids. */
const COMMON_AWKWARD_NUMBERS = [0, -0, -1, 1e11, 3e14, 8.64e15, Number.MAX_SAFE_INTEGER, 1e21];

const OPERATIONS = [
  'delete',
  'null',
  'toString',
  'toNumber',
  'toArray',
  'toObject',
  'toBoolean',
  'replace',
  'inject',
] as const;

type Segment = string | number;

export interface Mutation {
  pick: number;
  operation: (typeof OPERATIONS)[number];
  key: string;
  value: unknown;
  number: number;
}

export interface PayloadMutationOptions {
  /** Keys the normalizer reads, so that injected junk lands where it is looked for. */
  keys: string[];
  /** Values this source gives meaning to (ids with line breaks, enum values, …). */
  awkwardStrings: string[];
  awkwardNumbers: number[];
}

/**
 * Generators of hostile payloads for a plug-in's property test: junk values, mutations of a
 * fixture (drop, null, retype, replace, inject), and payloads shaped like a fixture.
 */
export function payloadMutations(options: PayloadMutationOptions) {
  const awkwardNumber = fc.oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(...COMMON_AWKWARD_NUMBERS, ...options.awkwardNumbers),
  );
  const awkwardString = fc.constantFrom(...COMMON_AWKWARD_STRINGS, ...options.awkwardStrings);
  const junk = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    awkwardNumber,
    awkwardString,
    fc.string({ maxLength: 6 }),
  );
  const mutation: fc.Arbitrary<Mutation> = fc.record({
    pick: fc.nat(),
    operation: fc.constantFrom(...OPERATIONS),
    key: fc.oneof(fc.constantFrom(...options.keys), fc.string({ maxLength: 8 })),
    value: junk,
    number: awkwardNumber,
  });

  /**
   * Payloads shaped like a fixture: every key may be dropped, every value may be swapped for
   * junk of any type, and arrays hold any number of items shaped like the fixture's own.
   */
  function shapedLike(template: unknown): fc.Arbitrary<unknown> {
    if (Array.isArray(template)) {
      const item = template.length > 0 ? fc.oneof(...template.map(shapedLike)) : junk;
      return fc.oneof({ weight: 4, arbitrary: fc.array(item, { maxLength: 4 }) }, junk);
    }
    if (isRecord(template)) {
      return fc.oneof({ weight: 4, arbitrary: shapedRecord(template) }, junk);
    }
    return fc.oneof(fc.constant(template), junk, junk);
  }

  function shapedRecord(template: JsonRecord): fc.Arbitrary<JsonRecord> {
    const fields = Object.fromEntries(
      Object.entries(template).map(([key, value]) => [key, shapedLike(value)]),
    );
    return fc.record(fields, { requiredKeys: [] });
  }

  return { junk, mutation, shapedRecord, applyMutation };
}

function childPaths(value: unknown, prefix: Segment[] = []): Segment[][] {
  if (!isRecord(value) && !Array.isArray(value)) return [];
  return Object.keys(value).flatMap((key) => {
    const segment: Segment = Array.isArray(value) ? Number(key) : key;
    const child = (value as Record<string, unknown>)[key];
    return [[...prefix, segment], ...childPaths(child, [...prefix, segment])];
  });
}

/** Sets an own property even for `__proto__`, as JSON.parse does. */
function setOwn(target: object, key: Segment, value: unknown): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function retyped(current: unknown, change: Mutation): unknown {
  switch (change.operation) {
    case 'null':
      return null;
    case 'toString':
      return typeof current === 'object' ? JSON.stringify(current) : String(current);
    case 'toNumber': {
      const numeric = Number(current);
      return Number.isFinite(numeric) ? numeric : change.number;
    }
    case 'toArray':
      return [current];
    case 'toObject':
      return { [change.key]: current };
    case 'toBoolean':
      return Boolean(current);
    case 'inject': {
      const target = isRecord(current) ? current : {};
      setOwn(target, change.key, change.value);
      return target;
    }
    case 'delete':
    case 'replace':
      return change.value;
  }
}

/** Applies one mutation, in place, at the node of `root` that `change.pick` selects. */
function applyMutation(root: JsonRecord, change: Mutation): void {
  const paths = childPaths(root);
  if (paths.length === 0) {
    setOwn(root, change.key, change.value);
    return;
  }
  const target = paths[change.pick % paths.length];
  const parent = target
    .slice(0, -1)
    .reduce<unknown>(
      (node, segment) => (node as Record<Segment, unknown>)[segment],
      root,
    ) as Record<Segment, unknown>;
  const last = target[target.length - 1];
  if (change.operation === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
    return;
  }
  setOwn(parent, last, retyped(parent[last], change));
}
