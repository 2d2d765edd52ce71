import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { buildCanonicalEvent } from '../../canonical/build-event';
import { canonicalEventProblems } from '../../canonical/canonical-event.schema';
import { JsonRecord, isRecord } from '../../canonical/coerce';
import { JIVO_WEBHOOK_EVENTS } from './jivo.payload';
import { JivoNormalizer } from './jivo.normalizer';

const FIXTURE_DIR = path.resolve(__dirname, '../../../../shared/fixtures/jivo');
const FIXTURES: JsonRecord[] = fs
  .readdirSync(FIXTURE_DIR)
  .filter((file) => file.endsWith('.json') && !/^(response|bot|crm)_/.test(file))
  .map((file) => JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, file), 'utf8')) as JsonRecord);

const normalizer = new JivoNormalizer();
const context = { sourceId: 'src_test', kind: 'jivo' };

/** Keys the normalizer reads, so that injected junk lands where it is looked for. */
const JIVO_KEYS = [
  'event_name',
  'widget_id',
  'widget',
  'user_token',
  'chat_id',
  'client_id',
  'visitor',
  'number',
  'name',
  'email',
  'phone',
  'chats_count',
  'social',
  'organization',
  'status',
  'assigned_agent',
  'tags',
  'title',
  'id',
  'topic',
  'department',
  'session',
  'geoip',
  'country_code',
  'latitude',
  'utm',
  'utm_json',
  'page',
  'analytics',
  'agent',
  'agents',
  'chat',
  'messages',
  'message',
  'timestamp',
  'type',
  'agent_id',
  'rate',
  'offline_message_id',
  'call',
  'assign_to',
  'attributes',
  '__proto__',
  'constructor',
];

/** Numbers that have broken date and id handling elsewhere: epochs, far-future ms, huge ids. */
const awkwardNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, -1, 1665396476, 1e11, 3e14, 8.64e15, Number.MAX_SAFE_INTEGER, 1e21),
);

/** Strings that mean something to some reader: ids with line breaks, dates, phones, enums. */
const awkwardString = fc.constantFrom(
  '',
  ' ',
  '76\n07',
  '7607\u2028',
  '300000000000000',
  '+275760-09-13T00:00:00.000Z',
  '2026-04-16T14:05:40.913Z',
  'positive',
  'agent',
  'visitor',
  '+14084987855',
  '8 916 123-45-67',
  'source=a|medium=b',
  'US',
);

const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  awkwardNumber,
  awkwardString,
  fc.string({ maxLength: 6 }),
);

type Segment = string | number;

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

interface Mutation {
  pick: number;
  operation: (typeof OPERATIONS)[number];
  key: string;
  value: unknown;
  number: number;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  operation: fc.constantFrom(...OPERATIONS),
  key: fc.oneof(fc.constantFrom(...JIVO_KEYS), fc.string({ maxLength: 8 })),
  value: junk,
  number: awkwardNumber,
});

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
    default:
      return change.value;
  }
}

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

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/**
 * The contract on any object: never throw; a string event_name always maps (so the defensive
 * catch never fires); every mapped event passes the schema and is the same on a second run;
 * a refusal says why.
 */
function assertContract(payload: JsonRecord): void {
  const frozen = deepFreeze(payload);
  const result = normalizer.normalize(frozen, context);
  if (result.status === 'unprocessable') {
    expect(typeof frozen.event_name).not.toBe('string');
    expect(result.reason.length).toBeGreaterThan(0);
    return;
  }
  expect(typeof frozen.event_name).toBe('string');
  const event = buildCanonicalEvent(result.event, {
    id: 'evt_test',
    receivedAt: '2026-01-01T00:00:00.000Z',
    source: { kind: 'jivo', id: 'src_test', deliveryId: null },
  });
  expect(canonicalEventProblems(event)).toEqual([]);
  const again = normalizer.normalize(frozen, context);
  expect(JSON.stringify(again)).toBe(JSON.stringify(result));
}

/**
 * Payloads shaped like a fixture: every key may be dropped, every value may be swapped for junk
 * of any type, and arrays hold any number of items shaped like the fixture's own.
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

function shapedPayload(template: JsonRecord): fc.Arbitrary<JsonRecord> {
  const eventName = fc.oneof({ weight: 9, arbitrary: fc.constant(template.event_name) }, junk);
  return fc
    .tuple(shapedRecord(template), eventName)
    .map(([payload, name]) => ({ ...payload, event_name: name }));
}

describe('JivoNormalizer on generated payloads', () => {
  it('keeps its contract on payloads shaped like each fixture', () => {
    fc.assert(
      fc.property(fc.oneof(...FIXTURES.map(shapedPayload)), (payload) => assertContract(payload)),
      { numRuns: 3000 },
    );
  });

  it('keeps its contract on mutated fixtures', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURES),
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        (fixture, changes) => {
          const payload = structuredClone(fixture);
          changes.forEach((change) => applyMutation(payload, change));
          assertContract(payload);
        },
      ),
      { numRuns: 1200 },
    );
  });

  it('keeps its contract on known events with junk in every field it reads', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...JIVO_WEBHOOK_EVENTS, 'chat_transferred'),
        fc.dictionary(fc.constantFrom(...JIVO_KEYS), fc.oneof(junk, fc.object({ maxDepth: 3 }))),
        (eventName, fields) => assertContract({ ...fields, event_name: eventName }),
      ),
      { numRuns: 1000 },
    );
  });

  it('keeps its contract on arbitrary objects', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 4 }), (payload) => assertContract(payload)),
      { numRuns: 1000 },
    );
  });

  it('keeps its contract on arbitrary objects that name a known event', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...JIVO_WEBHOOK_EVENTS),
        fc.object({ maxDepth: 4 }),
        (eventName, payload) => assertContract({ ...payload, event_name: eventName }),
      ),
      { numRuns: 1000 },
    );
  });
});
