/**
 * The conversation path's own JavaScript: what resolving an event's conversation and contact
 * and applying it to its conversation cost the worker per event, Postgres left out (its reads
 * are answered in process, its statements are built but not sent). Events go in batches as the
 * ingest worker takes them (`BENCH_PATH_BATCH`, default 15):
 * - `new`: unique Jivo `chat_accepted` bodies, a new chat and visitor each;
 * - `returning`: the same chats and visitors again (resolved from the worker's memory);
 * - `messages`: Chatwoot `message_created` bodies, each a new message in one of 500 remembered
 *   conversations.
 * Run with `npm run bench:conversation-path`; prints µs per event.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CanonicalEvent } from '../src/canonical/canonical-event';
import type { JsonRecord } from '../src/canonical/coerce';
import type { Settings } from '../src/config/settings';
import { ContactsRepository } from '../src/conversations/contacts.repository';
import { ConversationResolver } from '../src/conversations/conversation-resolver';
import {
  ConversationsRepository,
  ConversationToRead,
  madeSnapshot,
  plannedSnapshot,
} from '../src/conversations/conversations.repository';
import type { EventsRepository, StatementCompanion } from '../src/events/events.repository';
import { canonicalEventOf } from '../src/ingest/canonical-of';
import { StoredEventWriter } from '../src/ingest/stored-event-writer';
import { SOURCE_PLUGINS } from '../src/sources/source-plugins';
import { SourceRegistry } from '../src/sources/source-registry';
import type { DataSource } from 'typeorm';
import { JIVO_FIXTURE } from './lib/payloads';
import { PROJECT_ROOT } from './lib/report';

/** Events resolved together: ~15 is what the ingest worker batches under the e2e load. */
const BATCH = Number(process.env.BENCH_PATH_BATCH ?? 15);
if (!Number.isInteger(BATCH) || BATCH < 1) {
  throw new Error(
    `BENCH_PATH_BATCH: expected a whole number of events ≥ 1, got ${process.env.BENCH_PATH_BATCH}`,
  );
}
const TIMED_EVENTS = 30_000;
const ROUNDS = Math.ceil(TIMED_EVENTS / BATCH);
const RETURNING_VISITORS = 5_000;
/** `messages`: Chatwoot messages, each new, spread over this many remembered conversations. */
const MESSAGE_CONVERSATIONS = 500;
const CHATWOOT_MESSAGE = join(PROJECT_ROOT, 'test', 'fixtures', 'chatwoot', 'message_created.json');

/** Postgres answered in process: each conversation is new, each new identity is inserted. */
class InProcessConversations extends ConversationsRepository {
  constructor() {
    super(null as unknown as DataSource);
  }

  override async snapshotsOfKeys<T>(
    conversations: ConversationToRead[],
    withRead?: { params: unknown[]; read(rows: unknown[]): T },
    planMissing = false,
  ) {
    const snapshots = new Map(
      conversations.map((row) => [
        row.key,
        planMissing ? plannedSnapshot(`conv_${row.key}`, row) : madeSnapshot(`conv_${row.key}`),
      ]),
    );
    // The rows Postgres answers, as JSON text the driver parses.
    const plans = JSON.parse(String(withRead?.params[5] ?? '[]')) as { identity_id: string }[];
    const rows = JSON.parse(
      JSON.stringify(plans.map((plan) => ({ kind: 'inserted', row: { id: plan.identity_id } }))),
    ) as unknown[];
    return { snapshots, read: withRead?.read(rows) };
  }
}

async function main(): Promise<void> {
  const settings = { CONTACT_JOIN: 'both', CONVERSATION_MEMORY_SIZE: 5_000 } as Settings;
  const conversations = new InProcessConversations();
  const contacts = new ContactsRepository(null as unknown as DataSource);
  const resolver = new ConversationResolver(conversations, contacts, settings);
  let built = 0;
  const events = {
    insertRound: async (
      _manager: unknown,
      round: { id: string }[],
      companion?: StatementCompanion,
    ) => {
      built += companion ? companion.ctes(18).length + companion.holds(18).length : 0;
      return { events: new Set(round.map((event) => event.id)), heads: new Set<string>() };
    },
  } as unknown as EventsRepository;
  const writer = new StoredEventWriter(
    { manager: {} } as unknown as DataSource,
    events,
    conversations,
    contacts,
    resolver,
    settings,
  );

  const registry = new SourceRegistry(SOURCE_PLUGINS.map((plugin) => new plugin()));
  let eventNumber = 0;
  /** The payload as the ingest worker makes it into a canonical event. */
  const canonical = (kind: 'jivo' | 'chatwoot', payload: JsonRecord): CanonicalEvent => {
    const job = {
      eventId: `evt_${String(eventNumber++).padStart(26, '0')}`,
      sourceId: `src_bench_${kind}`,
      sourceKind: kind,
      sourceDeliveryId: null,
      receivedAt: new Date().toISOString(),
      rawBody: '',
    };
    const outcome = canonicalEventOf(job, payload, registry);
    if (outcome.status !== 'ok') throw new Error(`${kind} fixture: ${outcome.reason}`);
    return outcome.event;
  };
  const fixture = JSON.parse(readFileSync(JIVO_FIXTURE, 'utf8')) as Record<string, unknown>;
  const eventOf = (visitor: number): CanonicalEvent => {
    const payload = {
      ...fixture,
      chat_id: visitor,
      visitor: {
        ...(fixture.visitor as object),
        number: visitor,
        email: `visitor-${visitor}@example.com`,
        phone: `+14089${String(visitor % 1_000_000).padStart(6, '0')}`,
      },
    };
    return canonical('jivo', payload);
  };
  const message = JSON.parse(readFileSync(CHATWOOT_MESSAGE, 'utf8')) as Record<string, unknown>;
  let messageId = 1_000_000;
  const messageEventOf = (conversation: number): CanonicalEvent => {
    // One person per conversation, as the fixture's sender with an id and address of its own.
    const sender = {
      ...(message.sender as object),
      id: 100_000 + conversation,
      email: `customer-${conversation}@example.com`,
    };
    const snapshot = message.conversation as { meta: object };
    const payload = {
      ...message,
      id: messageId++,
      sender,
      conversation: {
        ...snapshot,
        id: conversation,
        display_id: conversation,
        meta: { ...snapshot.meta, sender: { ...sender, type: 'contact' } },
      },
    };
    return canonical('chatwoot', payload);
  };
  const store = async (event: CanonicalEvent) => {
    const ids = await resolver.resolve(event);
    if (event.conversation) event.conversation.id = ids.conversationId;
    if (event.contact) event.contact.id = ids.contactId;
    await writer.write({
      event: { id: event.id, deliveries: [] } as never,
      state: {
        event,
        conversationId: ids.conversationId!,
        identityId: ids.identityId,
        contactExternalId: ids.contactExternalId,
        snapshot: ids.snapshot,
      },
      identity: ids.identityWrite,
      ids,
    });
  };

  const results: string[] = [];
  for (const visitors of ['new', 'returning', 'messages'] as const) {
    let visitor = visitors === 'new' ? 1_000_000 : 0;
    const nextEvent = () => {
      if (visitors === 'messages') return messageEventOf(visitor++ % MESSAGE_CONVERSATIONS);
      return eventOf(visitors === 'new' ? visitor++ : visitor++ % RETURNING_VISITORS);
    };
    const batches = Array.from({ length: 2 * ROUNDS }, () =>
      Array.from({ length: BATCH }, nextEvent),
    );
    for (const batch of batches.slice(0, ROUNDS)) await Promise.all(batch.map(store));
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    for (const batch of batches.slice(ROUNDS)) await Promise.all(batch.map(store));
    const wallUs = Number(process.hrtime.bigint() - started) / 1000 / (ROUNDS * BATCH);
    const used = process.cpuUsage(cpu);
    const cpuUs = (used.user + used.system) / (ROUNDS * BATCH);
    results.push(
      `${visitors.padEnd(9)}  ${wallUs.toFixed(1).padStart(8)}  ${cpuUs.toFixed(1).padStart(11)}`,
    );
  }
  if (built === 0) throw new Error('no statement was built');
  console.log(`Conversation path, ${BATCH} events a batch, ${ROUNDS * BATCH} timed events each`);
  console.log('visitors   µs/event  CPU µs/event (GC threads included)');
  for (const line of results) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
