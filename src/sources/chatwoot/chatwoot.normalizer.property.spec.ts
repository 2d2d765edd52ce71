import { FIXTURES_ROOT } from '../testing/normalizer-harness';
import fc from 'fast-check';
import * as fs from 'fs';
import * as path from 'path';
import { serialize } from 'v8';
import { buildCanonicalEvent } from '../../canonical/build-event';
import { canonicalEventProblems } from '../../canonical/canonical-event.schema';
import { JsonRecord, isRecord } from '../../canonical/coerce';
import { ChatwootNormalizer } from './chatwoot.normalizer';
import { CHATWOOT_ACCOUNT_WEBHOOK_EVENTS, CHATWOOT_AGENT_BOT_EVENTS } from './chatwoot.payload';

/**
 * Whatever JSON object arrives, normalize never throws, every `ok` body passes the canonical
 * schema once enveloped, and every refusal says why.
 */

const FIXTURES = path.join(FIXTURES_ROOT, 'chatwoot');
const CONTEXT = { sourceId: 'src_test', kind: 'chatwoot' };
const normalizer = new ChatwootNormalizer();

const payloadFixtures: Array<[string, JsonRecord]> = fs
  .readdirSync(FIXTURES)
  .filter((file) => /^[^_].*\.json$/.test(file))
  .map((file) => [file, JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'))]);

// Plain throws rather than expect(): thousands of runs, and Jest's deep equality is slow.

function assertNormalizesSafely(payload: unknown): void {
  const result = normalizer.normalize(payload as JsonRecord, CONTEXT);
  if (result.status === 'unprocessable') {
    if (!/\S/.test(result.reason)) throw new Error('unprocessable without a reason');
    return;
  }
  const event = buildCanonicalEvent(result.event, {
    id: 'evt_test',
    receivedAt: '2026-01-01T00:00:00.000Z',
    source: { kind: 'chatwoot', id: 'src_test', deliveryId: null },
  });
  const problems = canonicalEventProblems(event);
  if (problems.length > 0) throw new Error(`schema problems: ${problems.join('; ')}`);
  if (result.event.sourceEvent !== (payload as JsonRecord).event) {
    throw new Error('sourceEvent is not the payload event verbatim');
  }
}

/** Compared as serialized bytes: generated objects may have a null prototype, clones do not. */
function assertLeavesPayloadUntouched(payload: JsonRecord): void {
  const before = serialize(payload);
  assertNormalizesSafely(payload);
  if (!serialize(payload).equals(before)) throw new Error('normalize modified its payload');
}

// --- Generators -------------------------------------------------------------------------------

const EVENT_NAMES = [
  ...CHATWOOT_ACCOUNT_WEBHOOK_EVENTS,
  ...CHATWOOT_AGENT_BOT_EVENTS,
  'automation_event.message_created',
  'macro.executed',
];

/** Field names Chatwoot uses, so generated objects reach deep into the readers. */
const CHATWOOT_KEYS = [
  'event',
  'id',
  'display_id',
  'conversation',
  'current_conversation',
  'conversation_id',
  'meta',
  'sender',
  'assignee',
  'assignee_type',
  'team',
  'messages',
  'message_type',
  'content',
  'content_type',
  'content_attributes',
  'deleted',
  'attachments',
  'file_type',
  'data_url',
  'file_size',
  'status',
  'private',
  'created_at',
  'updated_at',
  'timestamp',
  'channel',
  'medium',
  'inbox',
  'inbox_id',
  'contact_inbox',
  'source_id',
  'labels',
  'custom_attributes',
  'additional_attributes',
  'browser',
  'referer',
  'initiated_at',
  'browser_language',
  'event_info',
  'contact',
  'user',
  'type',
  'sender_type',
  'sender_id',
  'name',
  'email',
  'phone_number',
  'thumbnail',
  'avatar',
  'identifier',
  'changed_attributes',
  'previous_value',
  'current_value',
  'account',
  'account_id',
  'is_private',
  'created_at_ip',
  'city',
  'country',
  'secret',
  '__proto__',
  'constructor',
];

/** Values that sit on the edges of the readers: enums, id-ish and time-ish strings, extremes. */
const edgeValue = fc.constantFrom<unknown>(
  ...EVENT_NAMES,
  'incoming',
  'outgoing',
  'activity',
  'template',
  'Contact',
  'User',
  'AgentBot',
  'agent_bot',
  'Captain::Assistant',
  'Channel::WebWidget',
  'Channel::TwilioSms',
  'whatsapp:+5511987654321',
  'resolved',
  'input_select',
  'image',
  '+55 11 98765-4321',
  '',
  ' ',
  '0',
  '3',
  '1\n2',
  'a:b',
  '2026-04-16T14:05:40.913Z',
  '2020-03-03 13:05:57 UTC',
  'Thu Apr 16 2026 11:05:10 GMT-0300 (Brasilia Standard Time)',
  '+275760-09-13T00:00:00.000Z',
  'https://x.example/a%E0%A4%A/b%20c.png?x=1',
  0,
  -0,
  1,
  3,
  4,
  -1,
  1776348311,
  1776348340.997031,
  1e15,
  8.64e15,
  Number.MAX_SAFE_INTEGER,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  null,
);

const leafValue = fc.oneof(edgeValue, fc.string(), fc.integer(), fc.double(), fc.boolean());

const { node: chatwootNode } = fc.letrec<{ node: unknown; list: unknown[]; object: JsonRecord }>(
  (tie) => ({
    node: fc.oneof({ depthSize: 'small', maxDepth: 5 }, leafValue, tie('list'), tie('object')),
    list: fc.array(tie('node'), { maxLength: 3 }),
    object: fc.dictionary(fc.constantFrom(...CHATWOOT_KEYS), tie('node'), { maxKeys: 8 }),
  }),
);

/** An object shaped like no particular event but made of Chatwoot's vocabulary. */
const chatwootLikePayload = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...CHATWOOT_KEYS), chatwootNode, { maxKeys: 12 }),
    fc.constantFrom(...EVENT_NAMES),
  )
  .map(([payload, event]) => ({ ...payload, event }));

type Path = Array<string | number>;

/** Every place inside a value that a mutation can target, the root excluded. */
function pathsOf(value: unknown, prefix: Path = [], found: Path[] = []): Path[] {
  const children: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : isRecord(value)
      ? Object.entries(value)
      : [];
  for (const [key, child] of children) {
    const childPath = [...prefix, key];
    found.push(childPath);
    pathsOf(child, childPath, found);
  }
  return found;
}

type Mutation =
  | { kind: 'delete'; target: number }
  | { kind: 'null'; target: number }
  | { kind: 'retype'; target: number }
  | { kind: 'replace'; target: number; value: unknown }
  | { kind: 'inject'; target: number; key: string; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), target: fc.nat() }),
  fc.record({ kind: fc.constant('null' as const), target: fc.nat() }),
  fc.record({ kind: fc.constant('retype' as const), target: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), target: fc.nat(), value: chatwootNode }),
  fc.record({
    kind: fc.constant('inject' as const),
    target: fc.nat(),
    key: fc.oneof(fc.constantFrom(...CHATWOOT_KEYS), fc.string()),
    value: fc.oneof(chatwootNode, fc.jsonValue()),
  }),
);

/** Another JSON type carrying the same information, as forks and old versions do. */
function retyped(value: unknown): unknown {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : [value];
  if (typeof value === 'boolean') return value ? 1 : 'false';
  if (Array.isArray(value)) return Object.fromEntries(value.map((item, index) => [index, item]));
  if (isRecord(value)) return Object.values(value);
  return {};
}

/** Plain assignment would turn a `__proto__` key into a prototype change. */
function put(container: object, key: string | number, value: unknown): void {
  if (Array.isArray(container)) container[Number(key)] = value;
  else
    Object.defineProperty(container, key, {
      value,
      enumerable: true,
      configurable: true,
      writable: true,
    });
}

function applyMutation(payload: JsonRecord, change: Mutation): void {
  const paths = pathsOf(payload);
  if (paths.length === 0) return;
  const target = paths[change.target % paths.length];
  const parent = target
    .slice(0, -1)
    .reduce<unknown>((node, key) => (node as JsonRecord)[key], payload);
  const key = target[target.length - 1];
  const container = parent as Record<string | number, unknown>;
  switch (change.kind) {
    case 'delete':
      if (Array.isArray(container)) container.splice(Number(key), 1);
      else delete container[key];
      return;
    case 'null':
      return put(container, key, null);
    case 'retype':
      return put(container, key, retyped(container[key]));
    case 'replace':
      return put(container, key, change.value);
    case 'inject': {
      const node = container[key];
      const holder = isRecord(node) ? node : {};
      put(holder, change.key, change.value);
      return put(container, key, holder);
    }
  }
}

function mutated(fixture: JsonRecord, mutations: Mutation[]): JsonRecord {
  const payload = structuredClone(fixture);
  for (const change of mutations) applyMutation(payload, change);
  return payload;
}

// --- Properties -------------------------------------------------------------------------------

describe('ChatwootNormalizer.normalize on generated payloads', () => {
  describe.each(payloadFixtures)('mutations of %s', (_file, fixture) => {
    it('never throws and always yields a schema-valid event or a reason', () => {
      fc.assert(
        fc.property(fc.array(mutation, { minLength: 1, maxLength: 10 }), (mutations) => {
          assertLeavesPayloadUntouched(mutated(fixture, mutations));
        }),
        { numRuns: 300 },
      );
    });
  });

  it('handles objects built from Chatwoot field names, under every event name', () => {
    fc.assert(
      fc.property(chatwootLikePayload, (payload) => assertLeavesPayloadUntouched(payload)),
      { numRuns: 2500 },
    );
  });

  it('handles fully arbitrary objects', () => {
    fc.assert(
      fc.property(fc.object(), (payload) => assertNormalizesSafely(payload)),
      { numRuns: 1000 },
    );
  });

  it('handles arbitrary objects under a known event name', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 4 }), fc.constantFrom(...EVENT_NAMES), (payload, event) =>
        assertNormalizesSafely({ ...payload, event }),
      ),
      { numRuns: 1000 },
    );
  });

  it('handles non-JSON values inside objects (dates, maps, big ints, null prototypes)', () => {
    const exotic = fc.object({
      maxDepth: 3,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withSparseArray: true,
      withBoxedValues: true,
      withTypedArray: true,
    });
    fc.assert(
      fc.property(exotic, fc.constantFrom(...EVENT_NAMES), (payload, event) =>
        assertNormalizesSafely({ ...payload, event }),
      ),
      { numRuns: 500 },
    );
  });
});
