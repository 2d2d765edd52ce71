import * as fs from 'fs';
import * as path from 'path';
import { FIXTURES_ROOT } from '../testing/normalizer-harness';
import fc from 'fast-check';
import { payloadMutations } from '../testing/payload-mutations';
import { serialize } from 'v8';
import { buildCanonicalEvent } from '../../canonical/build-event';
import { canonicalEventProblems } from '../../canonical/canonical-event.schema';
import { JsonRecord } from '../../canonical/coerce';
import { InboundRequest, SourceNormalizer } from '../source-normalizer';
import { ConfiguredSource } from '../source-settings';
import { JivoBotNormalizer } from './jivo-bot.normalizer';
import { JIVO_BOT_INBOUND_EVENTS, JIVO_BOT_OUTBOUND_EVENTS } from './jivo-bot.payload';

/**
 * Whatever JSON object arrives, normalize never throws, a string `event` always maps, every
 * mapped body passes the canonical schema once enveloped, and every refusal says why.
 */

const FIXTURE_DIR = path.join(FIXTURES_ROOT, 'jivo');
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

const { junk, mutation, shapedRecord, applyMutation } = payloadMutations({
  keys: BOT_KEYS,
  awkwardStrings: [
    '20\n37',
    'a\u0000b',
    '2037\u2028',
    'TEXT',
    'BUTTONS',
    'PHOTO',
    'widget',
    'telegram',
    'CLIENT_MESSAGE',
  ],
  awkwardNumbers: [1665415879],
});

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

const ALLOW_LISTED: ConfiguredSource = {
  id: 'src_test',
  kind: 'jivo-bot',
  settings: { allowedChannelIds: ['123456'] },
};

/** The ingest-path methods never throw either, and give a usable delivery id or none. */
function assertIngestPathSafe(payload: JsonRecord): void {
  const request: InboundRequest = { rawBody: Buffer.from('{}'), headers: {}, payload };
  const deliveryId = plugin.deliveryId(request, ALLOW_LISTED);
  if (deliveryId !== null && deliveryId.trim().length === 0) {
    throw new Error(`unusable delivery id ${JSON.stringify(deliveryId)}`);
  }
  const verdict = plugin.verify(request, ALLOW_LISTED, new Date());
  if (!verdict.ok && !/\S/.test(verdict.reason)) throw new Error('refused without a reason');
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
