import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { serialize } from 'v8';
import { buildCanonicalEvent } from '../../canonical/build-event';
import { canonicalEventProblems } from '../../canonical/canonical-event.schema';
import { JsonRecord, isRecord } from '../../canonical/coerce';
import { InboundRequest, SourceNormalizer, SourceSettings } from '../source-normalizer';
import { JivoBotNormalizer } from './jivo-bot.normalizer';
import { JIVO_BOT_INBOUND_EVENTS, JIVO_BOT_OUTBOUND_EVENTS } from './jivo-bot.payload';

/**
 * Whatever JSON object arrives, normalize never throws, a string `event` always maps, every
 * mapped body passes the canonical schema once enveloped, and every refusal says why.
 */

const FIXTURE_DIR = path.resolve(__dirname, '../../../../shared/fixtures/jivo');
const FIXTURES: JsonRecord[] = fs
  .readdirSync(FIXTURE_DIR)
  .filter((file) => /^bot_.*\.json$/.test(file) && !file.startsWith('bot_out_'))
  .map((file) => JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, file), 'utf8')) as JsonRecord);

const normalizer = new JivoBotNormalizer();
const plugin: SourceNormalizer = normalizer;
const context = { sourceId: 'src_test', kind: 'jivo-bot' };
const EVENTS = [...JIVO_BOT_INBOUND_EVENTS, ...JIVO_BOT_OUTBOUND_EVENTS];

/** Keys the normalizer reads, so that injected junk lands where it is looked for. */
const BOT_KEYS = [
  'id',
  'event',
  'event_name',
  'site_id',
  'client_id',
  'chat_id',
  'agents_online',
  'timestamp',
  'sender',
  'agent',
  'name',
  'email',
  'phone',
  'url',
  'has_contacts',
  'message',
  'type',
  'text',
  'button_id',
  'title',
  'buttons',
  'force_reply',
  'file',
  'file_name',
  'mime_type',
  'file_size',
  'channel',
  '__proto__',
  'constructor',
];

/** Numbers that have broken date and id handling elsewhere: epochs, far-future ms, huge ids. */
const awkwardNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, -1, 1665415879, 1e11, 3e14, 8.64e15, Number.MAX_SAFE_INTEGER, 1e21),
);

/** Strings that mean something to some reader: ids with line breaks, dates, phones, enums. */
const awkwardString = fc.constantFrom(
  '',
  ' ',
  '20\n37',
  'a\u0000b',
  '2037\u2028',
  '+275760-09-13T00:00:00.000Z',
  '2026-04-16T14:05:40.913Z',
  'TEXT',
  'BUTTONS',
  'PHOTO',
  'widget',
  'telegram',
  'CLIENT_MESSAGE',
  '+14084987855',
  '8 916 123-45-67',
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
  key: fc.oneof(fc.constantFrom(...BOT_KEYS), fc.string({ maxLength: 8 })),
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

// Plain throws rather than expect(): thousands of runs, and Jest's deep equality is slow.

function assertContract(payload: JsonRecord): void {
  const before = serialize(payload);
  const result = normalizer.normalize(payload, context);
  if (!serialize(payload).equals(before)) throw new Error('normalize modified its payload');
  if (result.status === 'unprocessable') {
    if (typeof payload.event === 'string') throw new Error(`refused: ${result.reason}`);
    if (!/\S/.test(result.reason)) throw new Error('unprocessable without a reason');
    return;
  }
  if (typeof payload.event !== 'string') throw new Error('mapped a payload without event');
  if (result.event.sourceEvent !== payload.event) throw new Error('sourceEvent is not verbatim');
  const event = buildCanonicalEvent(result.event, {
    id: 'evt_test',
    receivedAt: '2026-01-01T00:00:00.000Z',
    source: { kind: 'jivo-bot', id: 'src_test', deliveryId: null },
  });
  const problems = canonicalEventProblems(event);
  if (problems.length > 0) throw new Error(`schema problems: ${problems.join('; ')}`);
  const again = normalizer.normalize(payload, context);
  if (JSON.stringify(again) !== JSON.stringify(result)) throw new Error('not deterministic');
}

const ALLOW_LISTED: SourceSettings = {
  id: 'src_test',
  kind: 'jivo-bot',
  signingSecret: null,
  signatureHeaderPrefix: null,
  allowedChannelIds: ['123456'],
};

/** The ingest-path methods never throw either, and give a usable delivery id or none. */
function assertIngestPathSafe(payload: JsonRecord): void {
  const request: InboundRequest = { rawBody: Buffer.from('{}'), headers: {}, payload };
  const deliveryId = plugin.deliveryId(request, ALLOW_LISTED);
  if (deliveryId !== null && (deliveryId.length === 0 || deliveryId.includes('\u0000'))) {
    throw new Error(`unusable delivery id ${JSON.stringify(deliveryId)}`);
  }
  const verdict = plugin.verify(request, ALLOW_LISTED, new Date());
  if (!verdict.ok && !/\S/.test(verdict.reason)) throw new Error('refused without a reason');
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
  const eventName = fc.oneof(
    { weight: 6, arbitrary: fc.constant(template.event) },
    { weight: 2, arbitrary: fc.constantFrom(...EVENTS) },
    junk,
  );
  return fc
    .tuple(shapedRecord(template), eventName)
    .map(([payload, name]) => ({ ...payload, event: name }));
}

describe('JivoBotNormalizer on generated payloads', () => {
  it('keeps its contract on payloads shaped like each fixture', () => {
    fc.assert(
      fc.property(fc.oneof(...FIXTURES.map(shapedPayload)), (payload) => {
        assertContract(payload);
        assertIngestPathSafe(payload);
      }),
      { numRuns: 2000 },
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
          assertIngestPathSafe(payload);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('keeps its contract on known events with junk in every field it reads', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENTS, 'INVITE_AGENT_ACCEPTED'),
        fc.dictionary(fc.constantFrom(...BOT_KEYS), fc.oneof(junk, fc.object({ maxDepth: 3 }))),
        (event, fields) => assertContract({ ...fields, event }),
      ),
      { numRuns: 1000 },
    );
  });

  it('keeps its contract on arbitrary objects', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 4 }), (payload) => {
        assertContract(payload);
        assertIngestPathSafe(payload);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps its contract on arbitrary objects that name a known event', () => {
    fc.assert(
      fc.property(fc.constantFrom(...EVENTS), fc.object({ maxDepth: 4 }), (event, payload) =>
        assertContract({ ...payload, event }),
      ),
      { numRuns: 1000 },
    );
  });
});
