import * as fs from 'fs';
import * as path from 'path';
import { FIXTURES_ROOT } from '../testing/normalizer-harness';
import fc from 'fast-check';
import { payloadMutations } from '../testing/payload-mutations';
import { buildCanonicalEvent } from '../../canonical/build-event';
import { canonicalEventProblems } from '../../canonical/canonical-event.schema';
import { JsonRecord } from '../../canonical/coerce';
import { JIVO_WEBHOOK_EVENTS } from './jivo.payload';
import { JivoNormalizer } from './jivo.normalizer';

const FIXTURE_DIR = path.join(FIXTURES_ROOT, 'jivo');
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
  'organization_id',
  'status',
  'status_id',
  'assigned_agent',
  'assigned_agent_id',
  'client',
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
  'keyword',
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

const { junk, mutation, shapedRecord, applyMutation } = payloadMutations({
  keys: JIVO_KEYS,
  awkwardStrings: [
    '76\n07',
    '7607\u2028',
    'positive',
    'agent',
    'visitor',
    'source=a|medium=b',
    'US',
  ],
  awkwardNumbers: [1665396476],
});

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
