import { newId } from '../../src/common/ids';
import type { Settings } from '../../src/config/settings';
import type { IdentityState } from '../../src/conversations/contact-identity';
import { ContactsRepository } from '../../src/conversations/contacts.repository';
import { ConversationResolver } from '../../src/conversations/conversation-resolver';
import { ConversationsRepository } from '../../src/conversations/conversations.repository';
import { DeliveryProducer } from '../../src/delivery/delivery-producer';
import { FirstAttempts } from '../../src/delivery/first-attempts';
import { IngestWatermark } from '../../src/delivery/ingest-watermark';
import { OrderedLanes } from '../../src/delivery/ordered-lanes';
import { EventsRepository } from '../../src/events/events.repository';
import { normalizedOf } from '../../src/ingest/canonical-of';
import { StoreAndRouteService } from '../../src/ingest/store-and-route.service';
import { RESOLVE_AGAIN, StoredEventWriter } from '../../src/ingest/stored-event-writer';
import { MetricsService } from '../../src/monitoring/metrics.service';
import { SubscriptionMatcher } from '../../src/routing/subscription-matcher';
import { RetentionService } from '../../src/maintenance/retention.service';
import { SourceRegistry } from '../../src/sources/source-registry';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

type Json = Record<string, any>;

const PUBLIC_BASE_URL = 'https://router.example.com';

/** A Chatwoot payload from the fixtures, for one conversation of one person. */
function chatwoot(file: string, edit: (payload: Json) => void): string {
  const payload = JSON.parse(fixtureText('chatwoot', file)) as Json;
  edit(payload);
  return JSON.stringify(payload);
}

/** The person: the same email (written differently) and phone (in another format) as Jivo's. */
const PERSON = {
  id: 7001,
  name: 'John S.',
  email: '  Email@Example.COM ',
  phone_number: '+1 (408) 498-7855',
  type: 'contact',
};

function onWhatsApp(conversation: Json, id: number, extra: Json = {}): void {
  conversation.id = id;
  conversation.channel = 'Channel::Whatsapp';
  conversation.meta = { ...conversation.meta, sender: PERSON };
  Object.assign(conversation, extra);
}

function conversationEvent(
  file: string,
  id: number,
  updatedAt: string,
  extra: Json = {},
  changes: Json[] = [],
): string {
  return chatwoot(file, (payload) => {
    onWhatsApp(payload, id, extra);
    payload.updated_at = Date.parse(updatedAt) / 1000;
    payload.changed_attributes = [
      ...changes,
      { updated_at: { previous_value: null, current_value: updatedAt } },
    ];
    payload.messages = [];
  });
}

function messageEvent(
  file: 'message_created.json' | 'message_updated.json',
  conversationId: number,
  messageId: number,
  content: string,
  createdAt: string,
  updatedAt?: string,
): string {
  return chatwoot(file, (payload) => {
    payload.id = messageId;
    payload.content = content;
    payload.created_at = createdAt;
    payload.message_type = 'incoming';
    payload.private = false;
    payload.sender = PERSON;
    onWhatsApp(payload.conversation, conversationId);
    // An update's time is its entry's updated_at in the conversation snapshot.
    payload.conversation.messages = updatedAt
      ? [
          {
            id: messageId,
            content,
            created_at: Date.parse(createdAt) / 1000,
            updated_at: updatedAt,
          },
        ]
      : [];
    payload.conversation.updated_at = Date.parse(updatedAt ?? createdAt) / 1000;
  });
}

describe('conversations and contacts (real Postgres and Redis)', () => {
  let app: TestApp;
  const sink = new HttpSink();
  let jivo: { id: string; token: string };
  let cw: { id: string; token: string };
  let delivery = 0;

  beforeAll(async () => {
    app = await startTestApp({ PUBLIC_BASE_URL });
    await resetDatabase(app.dataSource);
    await sink.start();
    jivo = (
      await app.admin('POST', '/api/sources', {
        kind: 'jivo',
        name: 'Website',
        builtinEnrichment: true,
      })
    ).body;
    cw = (await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'WhatsApp' })).body;
    const subscription = await app.admin('POST', '/api/subscriptions', {
      name: 'CRM',
      url: `${sink.url}/hook`,
      eventTypes: ['*'],
    });
    expect(subscription.status).toBe(201);
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  async function sendChatwoot(body: string): Promise<string> {
    const response = await app.post(`/webhooks/chatwoot/${cw.token}`, body, {
      'content-type': 'application/json',
      'x-chatwoot-delivery': `delivery-${++delivery}`,
    });
    expect(response.status).toBe(200);
    const { eventId } = (await response.json()) as { eventId: string };
    await app.drainQueues();
    return eventId;
  }

  async function conversationByKey(key: string): Promise<Json> {
    const [row] = (await app.dataSource.query(`SELECT id FROM conversations WHERE key = $1`, [
      key,
    ])) as { id: string }[];
    const found = await app.admin('GET', `/api/conversations/${row.id}`);
    expect(found.status).toBe(200);
    return found.body;
  }

  it('joins a Jivo website visitor and a Chatwoot WhatsApp customer into one contact, and Jivo is told who it is', async () => {
    await sendChatwoot(
      conversationEvent('conversation_created.json', 2001, '2026-04-10T09:00:00.000Z'),
    );
    await sendChatwoot(
      messageEvent(
        'message_created.json',
        2001,
        9101,
        'Where is my order?',
        '2026-04-10T09:01:00.000Z',
      ),
    );

    const accepted = fixtureText('jivo', 'chat_accepted.json');
    const reply = await app.post(`/webhooks/jivo/${jivo.token}`, accepted);
    expect(reply.status).toBe(200);
    const answer = (await reply.json()) as Json;
    expect(answer.result).toBe('ok');
    expect(answer.contact_info).toMatchObject({ email: expect.any(String), phone: '+14084987855' });
    expect(answer.crm_link).toMatch(new RegExp(`^${PUBLIC_BASE_URL}/console/contacts/ct_`));
    expect(answer.custom_data).toEqual([
      {
        title: expect.stringMatching(/^chatwoot · (WhatsApp|whatsapp|[^·]+) · 2026-04-10$/),
        content: 'open: Where is my order?',
        link: expect.stringMatching(new RegExp(`^${PUBLIC_BASE_URL}/console/conversations/conv_`)),
      },
    ]);
    await app.drainQueues();

    const contacts = await app.admin('GET', '/api/contacts?email=email@example.com');
    expect(contacts.status).toBe(200);
    expect(contacts.body.data).toHaveLength(1);
    const contact = (await app.admin('GET', `/api/contacts/${contacts.body.data[0].id}`)).body;
    expect(answer.crm_link).toBe(`${PUBLIC_BASE_URL}/console/contacts/${contact.id}`);
    expect(contact.identities.map((identity: Json) => identity.sourceKind).sort()).toEqual([
      'chatwoot',
      'jivo',
    ]);
    expect(contact.identities.map((identity: Json) => identity.phoneE164)).toEqual([
      '+14084987855',
      '+14084987855',
    ]);
    expect(contact.conversations).toHaveLength(2);
    expect(contact.conversations.map((c: Json) => c.channel.type).sort()).toEqual([
      'web_widget',
      'whatsapp',
    ]);
    expect(contact.links.map((link: Json) => link.reason).sort()).toEqual(['created', 'email']);

    // Subscribers can join the two sources by the router's contact id.
    await waitFor(() => sink.requests.length >= 3);
    const delivered = sink.requests.map((request) => JSON.parse(request.body.toString()) as Json);
    const ids = new Set(delivered.map((event) => event.contact?.id));
    expect(ids).toEqual(new Set([contact.id]));
    expect(delivered.every((event) => event.schemaVersion === 2)).toBe(true);
    expect(delivered.every((event) => /^conv_/.test(event.conversation.id))).toBe(true);

    // Listing: by q (email, phone, name), channel, contact; a bad cursor is a 400.
    for (const q of ['EMAIL@example.com', '+1 408 498 7855', 'John']) {
      const found = await app.admin('GET', `/api/conversations?q=${encodeURIComponent(q)}`);
      expect(found.status).toBe(200);
      expect(found.body.data).toHaveLength(2);
    }
    const whatsapp = await app.admin('GET', '/api/conversations?channel=whatsapp');
    expect(whatsapp.body.data.map((c: Json) => c.externalId)).toEqual(['2001']);
    const bad = await app.admin('GET', '/api/conversations?cursor=nonsense');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('validation_failed');
    const paged = await app.admin('GET', '/api/conversations?limit=1');
    expect(paged.body.data).toHaveLength(1);
    const next = await app.admin(
      'GET',
      `/api/conversations?limit=1&cursor=${paged.body.nextCursor}`,
    );
    expect(next.body.data).toHaveLength(1);
    expect(next.body.data[0].id).not.toBe(paged.body.data[0].id);
  });

  it('answers a Jivo chat from nobody known with a plain reply', async () => {
    const stranger = JSON.parse(fixtureText('jivo', 'chat_accepted.json')) as Json;
    stranger.chat_id = 99001;
    stranger.visitor = {
      ...stranger.visitor,
      number: 99001,
      email: 'nobody@example.org',
      phone: null,
    };
    const reply = await app.post(`/webhooks/jivo/${jivo.token}`, JSON.stringify(stranger));
    expect(await reply.json()).toEqual({ result: 'ok' });
    await app.drainQueues();
  });

  it('keeps the right state whatever order the events come in, and a replay changes nothing', async () => {
    const key = `chatwoot:${cw.id}:3001`;
    // The assignment (14:02) before the creation (14:00).
    await sendChatwoot(
      conversationEvent(
        'conversation_updated.json',
        3001,
        '2026-04-16T14:02:00.000Z',
        {
          meta: { sender: PERSON, assignee: { id: 14, name: 'Ana', type: 'user' } },
          labels: ['vip'],
        },
        [{ assignee_id: { previous_value: null, current_value: 14 } }],
      ),
    );
    await sendChatwoot(
      conversationEvent('conversation_created.json', 3001, '2026-04-16T14:00:00.000Z'),
    );
    // The edit (14:04) before the message it edits (14:03), then the message twice.
    await sendChatwoot(
      messageEvent(
        'message_updated.json',
        3001,
        9201,
        'Refund please (edited)',
        '2026-04-16T14:03:00.000Z',
        '2026-04-16T14:04:00.000Z',
      ),
    );
    const created = messageEvent(
      'message_created.json',
      3001,
      9201,
      'Refund pls',
      '2026-04-16T14:03:00.000Z',
    );
    await sendChatwoot(created);
    await sendChatwoot(created);
    // Resolved at 14:10; a stale update from 14:05 (still open) arrives after it.
    await sendChatwoot(
      conversationEvent(
        'conversation_updated.status_resolved.json',
        3001,
        '2026-04-16T14:10:00.000Z',
        { status: 'resolved' },
        [{ status: { previous_value: 'open', current_value: 'resolved' } }],
      ),
    );
    await sendChatwoot(
      conversationEvent('conversation_updated.json', 3001, '2026-04-16T14:05:00.000Z', {
        status: 'open',
        labels: ['stale'],
      }),
    );

    const state = await conversationByKey(key);
    expect(state).toMatchObject({
      status: 'resolved',
      endedAt: '2026-04-16T14:10:00.000Z',
      // The resolve (14:10) carries the newest assignee and labels; the stale update's lose.
      assignee: { externalId: '14' },
      labels: ['billing', 'refund'],
      messageCounts: { inbound: 1, outbound: 0, internal: 0 },
      firstActivityAt: '2026-04-16T14:00:00.000Z',
      lastActivityAt: '2026-04-16T14:10:00.000Z',
      lastMessage: { externalId: '9201', text: 'Refund please (edited)', direction: 'inbound' },
      channel: { type: 'whatsapp' },
      eventsPurgedBefore: null,
    });
    // The timeline: every event, in the source's order, messages with direction and sender.
    expect(state.timeline).toHaveLength(7);
    const times = state.timeline.map((entry: Json) => entry.occurredAt);
    expect([...times].sort()).toEqual(times);
    const message = state.timeline.find((entry: Json) => entry.type === 'message.created').message;
    expect(message).toMatchObject({
      direction: 'inbound',
      text: 'Refund pls',
      sender: { type: 'contact', name: 'John S.' },
      attachments: expect.any(Array),
    });
    const [messages] = (await app.dataSource.query(
      `SELECT text FROM conversation_messages WHERE conversation_id = $1`,
      [state.id],
    )) as { text: string }[];
    expect(messages.text).toBe('Refund please (edited)');

    // Replaying every event (new deliveries of the same events) changes nothing.
    for (const entry of state.timeline) {
      const replayed = await app.admin('POST', `/api/events/${entry.eventId}/replay`, {});
      expect(replayed.status).toBe(202);
    }
    await app.drainQueues();
    const { timeline: _after, ...after } = await conversationByKey(key);
    const { timeline: _before, ...before } = state;
    expect(after).toEqual(before);
  });

  it('loses no update when many events of one conversation are processed at once', async () => {
    const bodies = Array.from({ length: 40 }, (_, index) =>
      messageEvent(
        'message_created.json',
        4001,
        9300 + index,
        `message ${index}`,
        new Date(Date.parse('2026-04-18T10:00:00.000Z') + index * 1000).toISOString(),
      ),
    );
    await Promise.all(
      bodies.map(async (body) => {
        const response = await app.post(`/webhooks/chatwoot/${cw.token}`, body, {
          'content-type': 'application/json',
          'x-chatwoot-delivery': `delivery-${++delivery}`,
        });
        expect(response.status).toBe(200);
      }),
    );
    await app.drainQueues();
    const state = await conversationByKey(`chatwoot:${cw.id}:4001`);
    expect(state.messageCounts).toEqual({ inbound: 40, outbound: 0, internal: 0 });
    expect(state.timeline).toHaveLength(40);
    expect(state.lastMessage).toMatchObject({ externalId: '9339', text: 'message 39' });
    expect(state.firstActivityAt).toBe('2026-04-18T10:00:00.000Z');
    expect(state.lastActivityAt).toBe('2026-04-18T10:00:39.000Z');
  });

  it('makes one contact of two new identities sharing an email that arrive at once', async () => {
    const visitor = JSON.parse(fixtureText('jivo', 'chat_accepted.json')) as Json;
    visitor.chat_id = 55501;
    visitor.visitor = { ...visitor.visitor, number: 55501, email: 'pair@example.com', phone: null };
    const customer = chatwoot('message_created.json', (payload) => {
      const person = { ...PERSON, id: 55502, email: 'PAIR@example.com', phone_number: null };
      payload.id = 95501;
      payload.sender = person;
      payload.conversation.id = 5501;
      payload.conversation.meta = { ...payload.conversation.meta, sender: person };
      payload.conversation.messages = [];
    });
    await Promise.all([
      app.post(`/webhooks/jivo/${jivo.token}`, JSON.stringify(visitor)),
      app.post(`/webhooks/chatwoot/${cw.token}`, customer, {
        'content-type': 'application/json',
        'x-chatwoot-delivery': `delivery-${++delivery}`,
      }),
    ]);
    await app.drainQueues();
    const found = await app.admin('GET', '/api/contacts?email=pair@example.com');
    expect(found.body.data).toHaveLength(1);
    const contact = (await app.admin('GET', `/api/contacts/${found.body.data[0].id}`)).body;
    expect(contact.identities.map((identity: Json) => identity.externalId).sort()).toEqual([
      '55501',
      '55502',
    ]);
  });

  it('fills in what a contact lacks from the identities that join it, and keeps what it has', async () => {
    // A website visitor who gave only an email; later the same email on WhatsApp, with a
    // name and a phone.
    const visitor = JSON.parse(fixtureText('jivo', 'chat_accepted.json')) as Json;
    visitor.chat_id = 56601;
    visitor.visitor = { number: 56601, email: 'ana.lima@example.com' };
    await app.post(`/webhooks/jivo/${jivo.token}`, JSON.stringify(visitor));
    await app.drainQueues();
    const [made] = (await app.admin('GET', '/api/contacts?email=ana.lima@example.com')).body.data;
    expect(made).toMatchObject({ name: null, email: 'ana.lima@example.com', phoneE164: null });

    const person = {
      ...PERSON,
      id: 56602,
      name: 'Ana Lima',
      email: 'ANA.LIMA@example.com',
      phone_number: '+55 (11) 91234-5678',
    };
    await sendChatwoot(
      chatwoot('message_created.json', (payload) => {
        payload.id = 96601;
        payload.sender = person;
        payload.conversation.id = 6601;
        payload.conversation.meta = { ...payload.conversation.meta, sender: person };
        payload.conversation.messages = [];
      }),
    );
    const joined = (await app.admin('GET', `/api/contacts/${made.id}`)).body;
    expect(joined.identities).toHaveLength(2);
    expect(joined).toMatchObject({
      name: 'Ana Lima',
      email: 'ana.lima@example.com',
      phoneE164: '+5511912345678',
    });
    expect(joined.updatedAt > made.updatedAt).toBe(true);
    const byPhone = await app.admin('GET', '/api/contacts?phone=%2B5511912345678');
    expect(byPhone.body.data.map((contact: Json) => contact.id)).toEqual([made.id]);

    // One identity joining a contact under locks (insertIdentity) fills it the same way; a
    // field the contact has is not replaced.
    const contacts = app.running.context.get(ContactsRepository);
    const input = {
      sourceId: jivo.id,
      sourceKind: 'jivo',
      externalId: '56603',
      fields: { name: 'A. Lima', description: 'VIP' },
      stamp: ['2026-04-10T09:00:00.000Z', 'evt_56603'] as [string, string],
      eventId: 'evt_56603',
    };
    const state: IdentityState = {
      name: 'A. Lima',
      email: null,
      emailNormalized: null,
      phone: null,
      phoneE164: null,
      description: 'VIP',
      avatarUrl: null,
      attributes: {},
      stamps: {},
    };
    const [bare] = (await app.dataSource.query(
      `INSERT INTO contacts (id, name, email, phone_e164) VALUES ($1, NULL, 'x@example.com', NULL)
       RETURNING id`,
      [newId('ct')],
    )) as { id: string }[];
    await app.dataSource.transaction((manager) =>
      contacts.insertIdentity(manager, input, state, {
        contactId: bare.id,
        reason: 'email',
        value: 'x@example.com',
      }),
    );
    const [filled] = (await app.dataSource.query(
      `SELECT name, email, phone_e164 FROM contacts WHERE id = $1`,
      [bare.id],
    )) as Json[];
    expect(filled).toEqual({ name: 'A. Lima', email: 'x@example.com', phone_e164: null });

    // Two new identities of one batch, the second joining the contact the first makes: the
    // contact is made with what either has.
    const planned = (externalId: string, fields: Partial<IdentityState>) => ({
      input: { ...input, externalId, eventId: `evt_${externalId}` },
      state: { ...state, name: null, description: null, ...fields },
      reason: 'email' as const,
      value: 'pair.lima@example.com',
    });
    const madeHere = newId('ct');
    const first = planned('56604', {
      email: 'pair.lima@example.com',
      emailNormalized: 'pair.lima@example.com',
    });
    const second = planned('56605', {
      email: 'PAIR.LIMA@example.com',
      emailNormalized: 'pair.lima@example.com',
      phone: '+55 11 90000-1111',
      phoneE164: '+5511900001111',
      name: 'Pair Lima',
    });
    const inserted = await contacts.insertIdentities(undefined, [
      { ...first, identityId: newId('cti'), contactId: madeHere, createContact: true },
      { ...second, identityId: newId('cti'), contactId: madeHere, createContact: false },
    ]);
    expect(inserted.size).toBe(2);
    const [pair] = (await app.dataSource.query(
      `SELECT name, email, phone_e164 FROM contacts WHERE id = $1`,
      [madeHere],
    )) as Json[];
    expect(pair).toEqual({
      name: 'Pair Lima',
      email: 'pair.lima@example.com',
      phone_e164: '+5511900001111',
    });
  });

  it('makes one contact of new identities sharing an email that two workers store at the same moment', async () => {
    // Two workers, each with its own resolver and writer: neither sees the other's uncommitted
    // identity when it reads, so only the look after the insert (in the events' statement)
    // can join them.
    const workers = [app.running.context.get(StoreAndRouteService), anotherWorker().service];
    const pairs = Array.from({ length: 25 }, (_, index) => `race-${index}@example.com`);
    const jobs = pairs.flatMap((email, index) =>
      workers.map((worker, side) => {
        const chat = 56000 + index * 2 + side;
        return { worker, job: acceptedJob(chat, { number: chat, email, phone: null }) };
      }),
    );
    await Promise.all(jobs.map(({ worker, job }) => worker.storeAndRoute(job)));
    const rows = (await app.dataSource.query(
      `SELECT email_normalized AS email, count(*)::int AS identities,
              count(DISTINCT contact_id)::int AS contacts
         FROM contact_identities WHERE email_normalized = ANY($1::text[])
        GROUP BY email_normalized`,
      [pairs],
    )) as { email: string; identities: number; contacts: number }[];
    expect(rows).toHaveLength(pairs.length);
    expect(rows.every((row) => row.identities === 2 && row.contacts === 1)).toBe(true);
    expect(await emptyContacts()).toBe(0);
    expect(await storedEvents(jobs.map(({ job }) => job.eventId))).toBe(jobs.length);
  });

  it('leaves no empty contact when two workers store the same new visitor at the same moment', async () => {
    // Both reads find the visitor new and make it a contact; one identity insert wins, and the
    // other worker removes the contact it made for nothing. Whether two reads overlap is up to
    // timing: rounds go on until one did (the removal ran), at most 8.
    const workers = [app.running.context.get(StoreAndRouteService), anotherWorker().service];
    const removals = jest.spyOn(ContactsRepository.prototype, 'deleteEmptyContacts');
    const visitors: number[] = [];
    const jobs: { eventId: string }[] = [];
    try {
      for (let round = 0; round < 8 && removals.mock.calls.length === 0; round++) {
        const batch = Array.from({ length: 25 }, (_, index) => 61000 + round * 25 + index);
        const pairs = batch.flatMap((visitor) =>
          workers.map((worker, side) => ({
            worker,
            job: acceptedJob(62000 + visitor * 2 + side, {
              number: visitor,
              email: `twice-${visitor}@example.com`,
              phone: null,
            }),
          })),
        );
        await Promise.all(pairs.map(({ worker, job }) => worker.storeAndRoute(job)));
        visitors.push(...batch);
        jobs.push(...pairs.map(({ job }) => job));
      }
      expect(removals).toHaveBeenCalled();
    } finally {
      removals.mockRestore();
    }
    const rows = (await app.dataSource.query(
      `SELECT external_id, count(*)::int AS identities FROM contact_identities
        WHERE source_id = $1 AND external_id = ANY($2::text[]) GROUP BY external_id`,
      [jivo.id, visitors.map(String)],
    )) as { external_id: string; identities: number }[];
    expect(rows).toHaveLength(visitors.length);
    expect(rows.every((row) => row.identities === 1)).toBe(true);
    expect(await emptyContacts()).toBe(0);
    expect(await storedEvents(jobs.map((job) => job.eventId))).toBe(jobs.length);
  });

  it('joins a new identity to one another worker stored with its email after the read, before the event', async () => {
    const resolver = app.running.context.get(ConversationResolver);
    const writer = app.running.context.get(StoredEventWriter);
    const service = app.running.context.get(StoreAndRouteService);
    const job = acceptedJob(59101, { number: 59101, email: 'late@example.com', phone: null });
    const ids = await resolver.resolve(eventOf(job));
    expect(ids.joinCheck?.id).toBe(ids.identityId);
    // Another worker's identity with the same email, in a contact of its own, committed after
    // this worker's read (it did not see this one either).
    const [otherContact, otherIdentity] = [newId('ct'), newId('cti')];
    await app.dataSource.query(
      `WITH c AS (INSERT INTO contacts (id, name, email) VALUES ($1, 'Other', 'late@example.com'))
       INSERT INTO contact_identities (id, contact_id, source_id, source_kind, external_id, email,
                                       email_normalized, field_stamps)
       VALUES ($2, $1, $3, 'chatwoot', '59102', 'late@example.com', 'late@example.com', '{}')`,
      [otherContact, otherIdentity, cw.id],
    );
    const event = eventOf(job);
    event.conversation!.id = ids.conversationId;
    event.contact!.id = ids.contactId;
    const write = {
      event: {
        id: job.eventId,
        sourceId: jivo.id,
        sourceKind: 'jivo',
        sourceEvent: 'chat_accepted',
        sourceDeliveryId: null,
        type: event.type,
        status: 'routed' as const,
        error: null,
        conversationKey: event.conversation!.key,
        conversationId: ids.conversationId,
        occurredAt: event.occurredAt,
        receivedAt: job.receivedAt,
        rawBody: job.rawBody,
        canonical: JSON.stringify(event),
        deliveries: [],
      },
      state: null,
      identity: null,
      ids,
    };
    // The statement finds the other identity: nothing is written, the two are joined, and the
    // event is to be resolved again (it then carries the joined contact).
    expect((await writer.write(write)).stored).toBe(RESOLVE_AGAIN);
    const contacts = (await app.dataSource.query(
      `SELECT DISTINCT contact_id FROM contact_identities WHERE email_normalized = 'late@example.com'`,
    )) as { contact_id: string }[];
    expect(contacts).toHaveLength(1);
    await service.storeAndRoute(job);
    const [stored] = (await app.dataSource.query(
      `SELECT canonical->'contact'->>'id' AS contact_id FROM events WHERE id = $1`,
      [job.eventId],
    )) as { contact_id: string }[];
    expect(stored.contact_id).toBe(contacts[0].contact_id);
  });

  /** A Chatwoot message of someone other than PERSON, in a conversation of that person. */
  function strangerMessage(conversationId: number, messageId: number, content: string, at: string) {
    const payload = JSON.parse(
      messageEvent('message_created.json', conversationId, messageId, content, at),
    ) as Json;
    const stranger = { id: 7400 + conversationId, name: 'Stranger', type: 'contact' };
    payload.sender = stranger;
    payload.conversation.meta.sender = stranger;
    return jobOf(cw, 'chatwoot', JSON.stringify(payload));
  }

  it('inserts a new conversation once, with its state, by the statement that stores its first event', async () => {
    const service = app.running.context.get(StoreAndRouteService);
    await service.storeAndRoute(strangerMessage(5401, 9901, 'Hi', '2026-04-22T09:00:00.000Z'));
    const [row] = (await app.dataSource.query(
      `SELECT state_version::int AS version, messages_inbound AS inbound,
              created_at = updated_at AS written_once, xmin::text = (
                SELECT e.xmin::text FROM events e WHERE e.conversation_id = c.id) AS with_event
         FROM conversations c WHERE key = $1`,
      [`chatwoot:${cw.id}:5401`],
    )) as Json[];
    // An empty row inserted by the read and updated by the event's statement would have two
    // times (two transactions) and its first version written apart from the event.
    expect(row).toEqual({ version: 1, inbound: 1, written_once: true, with_event: true });
  });

  it('resolves again an event whose new conversation another worker inserted after the read', async () => {
    const first = app.running.context.get(StoreAndRouteService);
    const writer = app.running.context.get(StoredEventWriter);
    const second = anotherWorker();
    const key = `chatwoot:${cw.id}:5402`;
    const mine = strangerMessage(5402, 9902, 'Mine', '2026-04-22T10:00:00.000Z');
    const theirs = strangerMessage(5402, 9903, 'Theirs', '2026-04-22T10:00:05.000Z');
    const write = writer.write.bind(writer);
    const outcomes: unknown[] = [];
    const spy = jest.spyOn(writer, 'write').mockImplementation(async (item) => {
      // The first worker read no row for the key and planned one; the second stores its event
      // (and the conversation) before the first worker's statement runs.
      if (outcomes.length === 0) await second.service.storeAndRoute(theirs);
      const outcome = await write(item);
      outcomes.push(outcome.stored);
      return outcome;
    });
    try {
      await first.storeAndRoute(mine);
    } finally {
      spy.mockRestore();
    }
    expect(outcomes).toEqual([RESOLVE_AGAIN, true]);
    const conversations = (await app.dataSource.query(
      `SELECT id, messages_inbound AS inbound FROM conversations WHERE key = $1`,
      [key],
    )) as Json[];
    expect(conversations).toHaveLength(1);
    expect(conversations[0].inbound).toBe(2);
    const events = (await app.dataSource.query(
      `SELECT conversation_id, canonical->'conversation'->>'id' AS canonical_id FROM events
        WHERE id = ANY($1::text[])`,
      [[mine.eventId, theirs.eventId]],
    )) as Json[];
    expect(events).toHaveLength(2);
    for (const event of events) {
      expect(event).toEqual({
        conversation_id: conversations[0].id,
        canonical_id: conversations[0].id,
      });
    }
    const { body } = await app.admin('GET', `/api/conversations/${conversations[0].id}`);
    expect(body.timeline.map((entry: Json) => entry.message?.text)).toEqual(['Mine', 'Theirs']);
  });

  it('keeps the newest fields of a known identity two workers update at the same moment', async () => {
    // Two workers, each with its own resolver and writer: a known identity's newer fields are
    // written with the event's statement, only if its stamps are still those read.
    const context = app.running.context;
    const resolvers = [
      context.get(ConversationResolver),
      new ConversationResolver(
        context.get(ConversationsRepository),
        context.get(ContactsRepository),
        app.settings,
      ),
    ];
    const writers = [
      context.get(StoredEventWriter),
      new StoredEventWriter(
        app.dataSource,
        context.get(EventsRepository),
        context.get(ConversationsRepository),
        context.get(ContactsRepository),
        resolvers[1],
        app.settings,
      ),
    ];
    const workers = [0, 1].map(
      (side) =>
        new StoreAndRouteService(
          context.get(SourceRegistry),
          context.get(SubscriptionMatcher),
          resolvers[side],
          writers[side],
          context.get(DeliveryProducer),
          context.get(MetricsService),
          context.get(OrderedLanes),
          context.get(FirstAttempts),
          context.get(IngestWatermark),
        ),
    );
    // Jivo sends no time: an event's time is when the router received it.
    const jobOf = (visitor: number, name: string, receivedAt: string) => {
      const payload = JSON.parse(fixtureText('jivo', 'chat_accepted.json')) as Json;
      payload.chat_id = visitor;
      payload.visitor = { ...payload.visitor, number: visitor, name, email: null, phone: null };
      return {
        eventId: newId('evt'),
        sourceId: jivo.id,
        sourceKind: 'jivo',
        sourceDeliveryId: null,
        receivedAt,
        rawBody: JSON.stringify(payload),
      };
    };
    const visitors = Array.from({ length: 25 }, (_, index) => 57000 + index);
    const namesNow = async () =>
      (await app.dataSource.query(
        `SELECT external_id, name FROM contact_identities
          WHERE source_id = $1 AND external_id = ANY($2::text[])`,
        [jivo.id, visitors.map(String)],
      )) as { external_id: string; name: string }[];
    await Promise.all(
      visitors.map((visitor) =>
        workers[0].storeAndRoute(jobOf(visitor, 'first', '2026-05-01T10:00:00.000Z')),
      ),
    );
    await Promise.all(
      visitors.map((visitor) =>
        workers[1].storeAndRoute(jobOf(visitor, 'second', '2026-05-01T10:00:00.500Z')),
      ),
    );
    expect((await namesNow()).filter((row) => row.name !== 'second')).toEqual([]);
    // The newer name and the older one race on two workers: both read the same stamps, the
    // newer is stored first; the older's statement must not write over it.
    const resolvedOf = (side: number, visitor: number, name: string, receivedAt: string) => {
      const job = jobOf(visitor, name, receivedAt);
      const normalized = normalizedOf(job, context.get(SourceRegistry));
      if (normalized.status !== 'ok') throw new Error(normalized.reason);
      return resolvers[side].resolve(normalized.event).then((ids) => ({ job, ids }));
    };
    const store = (side: number, { job, ids }: Awaited<ReturnType<typeof resolvedOf>>) =>
      writers[side].write({
        event: {
          id: job.eventId,
          sourceId: job.sourceId,
          sourceKind: job.sourceKind,
          sourceEvent: null,
          sourceDeliveryId: null,
          type: null,
          status: 'unprocessable',
          error: 'stored by the test',
          conversationKey: null,
          conversationId: null,
          occurredAt: job.receivedAt,
          receivedAt: job.receivedAt,
          rawBody: job.rawBody,
          canonical: null,
          deliveries: [],
        },
        state: null,
        identity: ids.identityWrite,
      });
    const raced = await Promise.all(
      visitors.map((visitor) =>
        Promise.all([
          resolvedOf(0, visitor, 'newest', '2026-05-01T10:00:02.000Z'),
          resolvedOf(1, visitor, 'older', '2026-05-01T10:00:01.000Z'),
        ]),
      ),
    );
    expect(
      raced.every(([newest, older]) => newest.ids.identityWrite && older.ids.identityWrite),
    ).toBe(true);
    await Promise.all(raced.map(([newest]) => store(0, newest)));
    await Promise.all(raced.map(([, older]) => store(1, older)));
    const rows = await namesNow();
    expect(rows).toHaveLength(visitors.length);
    expect(rows.filter((row) => row.name !== 'newest')).toEqual([]);
    const contacts = (await app.dataSource.query(
      `SELECT c.name FROM contacts c JOIN contact_identities i ON i.contact_id = c.id
        WHERE i.source_id = $1 AND i.external_id = ANY($2::text[])`,
      [jivo.id, visitors.map(String)],
    )) as { name: string }[];
    expect(contacts.filter((row) => row.name !== 'newest')).toEqual([]);
    // The other way round: the older is stored first, so the newer's statement finds the
    // stamps moved and its fields are merged again under locks.
    const reversed = await Promise.all(
      visitors.map((visitor) =>
        Promise.all([
          resolvedOf(0, visitor, 'latest', '2026-05-01T10:00:04.000Z'),
          resolvedOf(1, visitor, 'earlier', '2026-05-01T10:00:03.000Z'),
        ]),
      ),
    );
    await Promise.all(reversed.map(([, earlier]) => store(1, earlier)));
    await Promise.all(reversed.map(([latest]) => store(0, latest)));
    expect((await namesNow()).filter((row) => row.name !== 'latest')).toEqual([]);
  });

  it('merges and splits contacts by hand; a split identity is not joined again', async () => {
    const [{ contact_id: joined }] = (await app.dataSource.query(
      `SELECT contact_id FROM contact_identities WHERE source_id = $1 AND external_id = '7001'`,
      [cw.id],
    )) as { contact_id: string }[];
    const before = (await app.admin('GET', `/api/contacts/${joined}`)).body;
    const whatsappIdentity = before.identities.find((i: Json) => i.sourceKind === 'chatwoot');

    const split = await app.admin('POST', `/api/contacts/${joined}/split`, {
      identityId: whatsappIdentity.id,
    });
    expect(split.status).toBe(200);
    expect(split.body.id).not.toBe(joined);
    expect(split.body.identities).toEqual([
      expect.objectContaining({ id: whatsappIdentity.id, autoJoin: false }),
    ]);
    expect(split.body.conversations.map((c: Json) => c.externalId).sort()).toEqual([
      '2001',
      '3001',
      '4001',
    ]);

    // The next WhatsApp message of the same person (same email and phone) stays apart.
    await sendChatwoot(
      messageEvent('message_created.json', 2001, 9102, 'Any news?', '2026-04-17T10:00:00.000Z'),
    );
    const still = (await app.admin('GET', `/api/contacts/${joined}`)).body;
    expect(still.identities.map((i: Json) => i.sourceKind)).toEqual(['jivo']);
    // The contact left behind shows what its own identity says, not the split one's.
    const [jivoIdentity] = still.identities;
    expect(jivoIdentity.name).not.toBe(whatsappIdentity.name);
    expect(still).toMatchObject({
      name: jivoIdentity.name,
      email: jivoIdentity.email,
      phoneE164: jivoIdentity.phoneE164,
    });
    expect(split.body).toMatchObject({
      name: whatsappIdentity.name,
      email: whatsappIdentity.email,
      phoneE164: whatsappIdentity.phoneE164,
    });

    expect(
      (await app.admin('POST', `/api/contacts/${joined}/split`, { identityId: 'cti_nope' })).status,
    ).toBe(404);
    expect(
      (
        await app.admin('POST', `/api/contacts/${joined}/split`, {
          identityId: still.identities[0].id,
        })
      ).status,
    ).toBe(409);
    expect((await app.admin('POST', '/api/contacts/merge', { intoContactId: joined })).status).toBe(
      400,
    );
    expect(
      (
        await app.admin('POST', '/api/contacts/merge', {
          intoContactId: joined,
          contactIds: ['ct_nope'],
        })
      ).status,
    ).toBe(404);

    const merged = await app.admin('POST', '/api/contacts/merge', {
      intoContactId: joined,
      contactIds: [split.body.id],
    });
    expect(merged.status).toBe(200);
    expect(merged.body.identities).toHaveLength(2);
    expect(merged.body.conversations).toHaveLength(4);
    expect(merged.body.links.map((link: Json) => link.reason)).toContain('merge');
    expect((await app.admin('GET', `/api/contacts/${split.body.id}`)).status).toBe(404);
    expect((await app.admin('GET', '/api/conversations/conv_nope')).status).toBe(404);
  });

  /** Another worker process: its own resolver (and memory) and writer, its own settings. */
  function anotherWorker(settings: Partial<Settings> = {}): {
    resolver: ConversationResolver;
    service: StoreAndRouteService;
  } {
    const context = app.running.context;
    const resolver = new ConversationResolver(
      context.get(ConversationsRepository),
      context.get(ContactsRepository),
      Object.assign(Object.create(app.settings) as Settings, settings),
    );
    const writer = new StoredEventWriter(
      app.dataSource,
      context.get(EventsRepository),
      context.get(ConversationsRepository),
      context.get(ContactsRepository),
      resolver,
      app.settings,
    );
    const service = new StoreAndRouteService(
      context.get(SourceRegistry),
      context.get(SubscriptionMatcher),
      resolver,
      writer,
      context.get(DeliveryProducer),
      context.get(MetricsService),
      context.get(OrderedLanes),
      context.get(FirstAttempts),
      context.get(IngestWatermark),
    );
    return { resolver, service };
  }

  function jobOf(source: { id: string }, sourceKind: string, rawBody: string) {
    return {
      eventId: newId('evt'),
      sourceId: source.id,
      sourceKind,
      sourceDeliveryId: null,
      receivedAt: new Date().toISOString(),
      rawBody,
    };
  }

  /** A Jivo `chat_accepted` job for `chat`, its visitor's fields changed by `visitor`. */
  function acceptedJob(chat: number, visitor: Json) {
    const payload = JSON.parse(fixtureText('jivo', 'chat_accepted.json')) as Json;
    payload.chat_id = chat;
    payload.visitor = { ...payload.visitor, ...visitor };
    return jobOf(jivo, 'jivo', JSON.stringify(payload));
  }

  /** Contacts no identity belongs to (a contact made for an identity another worker stored). */
  async function emptyContacts(): Promise<number> {
    const [{ empty }] = (await app.dataSource.query(
      `SELECT count(*)::int AS empty FROM contacts c
        WHERE NOT EXISTS (SELECT 1 FROM contact_identities i WHERE i.contact_id = c.id)`,
    )) as { empty: number }[];
    return empty;
  }

  /** How many of these events are stored. */
  async function storedEvents(eventIds: string[]): Promise<number> {
    const [{ stored }] = (await app.dataSource.query(
      `SELECT count(*)::int AS stored FROM events WHERE id = ANY($1::text[])`,
      [eventIds],
    )) as { stored: number }[];
    return stored;
  }

  function eventOf(job: ReturnType<typeof jobOf>) {
    const normalized = normalizedOf(job, app.running.context.get(SourceRegistry));
    if (normalized.status !== 'ok') throw new Error(normalized.reason);
    return normalized.event;
  }

  it('applies what another worker stored between two events a worker resolves from memory', async () => {
    const first = {
      resolver: app.running.context.get(ConversationResolver),
      service: app.running.context.get(StoreAndRouteService),
    };
    const second = anotherWorker();
    const chatwootJob = (body: string) => jobOf(cw, 'chatwoot', body);
    await first.service.storeAndRoute(
      chatwootJob(conversationEvent('conversation_created.json', 5001, '2026-04-19T10:10:00.000Z')),
    );
    // The second worker stores older events of it (they tell the contact's identity nothing
    // newer, so only the conversation moves): a message, and the conversation resolved.
    await second.service.storeAndRoute(
      chatwootJob(
        messageEvent('message_created.json', 5001, 9501, 'Hello', '2026-04-19T10:01:00.000Z'),
      ),
    );
    await second.service.storeAndRoute(
      chatwootJob(
        conversationEvent(
          'conversation_updated.status_resolved.json',
          5001,
          '2026-04-19T10:05:00.000Z',
          { status: 'resolved' },
          [{ status: { previous_value: 'open', current_value: 'resolved' } }],
        ),
      ),
    );
    // The first remembers the conversation as it made it, with no message: the edit of the
    // message is resolved from memory, and its statement must find the conversation moved.
    const edit = chatwootJob(
      messageEvent(
        'message_updated.json',
        5001,
        9501,
        'Hello (edited)',
        '2026-04-19T10:01:00.000Z',
        '2026-04-19T10:03:00.000Z',
      ),
    );
    expect((await first.resolver.resolve(eventOf(edit))).remembered).toBe(true);
    await first.service.storeAndRoute(edit);

    const state = await conversationByKey(`chatwoot:${cw.id}:5001`);
    expect(state).toMatchObject({
      endedAt: '2026-04-19T10:05:00.000Z',
      messageCounts: { inbound: 1, outbound: 0, internal: 0 },
      firstActivityAt: '2026-04-19T10:01:00.000Z',
      lastActivityAt: '2026-04-19T10:10:00.000Z',
      lastMessage: { externalId: '9501', text: 'Hello (edited)' },
    });
    expect(state.timeline).toHaveLength(4);
    // What the first worker remembers now is what it stored: its next event needs no read.
    const next = chatwootJob(
      messageEvent('message_created.json', 5001, 9502, 'Thanks', '2026-04-19T10:11:00.000Z'),
    );
    expect((await first.resolver.resolve(eventOf(next))).remembered).toBe(true);
    await first.service.storeAndRoute(next);
    expect(await conversationByKey(`chatwoot:${cw.id}:5001`)).toMatchObject({
      messageCounts: { inbound: 2, outbound: 0, internal: 0 },
      lastMessage: { externalId: '9502', text: 'Thanks' },
    });
  });

  /**
   * Locks the `lower` row of `table` (its `key` columns' values) as another worker's fallback
   * transaction does (in key order, here one row at a time), runs `statement` (one events
   * statement writing both rows, `higher`'s event first), and once it waits on `lower`, locks
   * `higher`. A statement that took its locks in its batch's order, or the table's, holds
   * `higher` already: a deadlock.
   */
  async function lockCrosswise(
    table: 'conversations' | 'contact_identities' | 'conversation_messages',
    key: string[],
    lower: string[],
    higher: string[],
    statement: () => Promise<unknown>,
  ): Promise<void> {
    expect(lower.join('\n') < higher.join('\n')).toBe(true);
    const where = key.map((column, index) => `${column} = $${index + 1}`).join(' AND ');
    // The lower row's newest version now lies after the higher one: the table's order is not
    // the keys' order either.
    await app.dataSource.query(`UPDATE ${table} SET ${key[0]} = ${key[0]} WHERE ${where}`, lower);
    const locker = app.dataSource.createQueryRunner();
    await locker.connect();
    await locker.startTransaction();
    try {
      await locker.query(`SELECT 1 FROM ${table} WHERE ${where} FOR UPDATE`, lower);
      const stored = statement();
      await waitFor(async () => {
        const waiting = (await app.dataSource.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query LIKE 'WITH event AS%'`,
        )) as { n: number }[];
        return waiting[0].n > 0;
      });
      await locker.query(`SELECT 1 FROM ${table} WHERE ${where} FOR UPDATE`, higher);
      await locker.commitTransaction();
      await stored;
    } finally {
      if (locker.isTransactionActive) await locker.rollbackTransaction();
      await locker.release();
    }
  }

  it('updates the conversations of a statement in id order, so a transaction locking them in that order waits instead of deadlocking', async () => {
    const { service } = anotherWorker();
    const message = (conversation: number, id: number, at: string) =>
      jobOf(cw, 'chatwoot', messageEvent('message_created.json', conversation, id, 'Hi', at));
    await service.storeAndRoute(message(5201, 9701, '2026-04-21T10:00:00.000Z'));
    await service.storeAndRoute(message(5202, 9711, '2026-04-21T10:00:00.000Z'));
    const lower = (await conversationByKey(`chatwoot:${cw.id}:5201`)).id as string;
    const higher = (await conversationByKey(`chatwoot:${cw.id}:5202`)).id as string;

    // One statement for both (resolved from memory together).
    await lockCrosswise('conversations', ['id'], [lower], [higher], () =>
      Promise.all([
        service.storeAndRoute(message(5202, 9712, '2026-04-21T10:01:00.000Z')),
        service.storeAndRoute(message(5201, 9702, '2026-04-21T10:01:00.000Z')),
      ]),
    );
    for (const chat of [5201, 5202]) {
      expect(await conversationByKey(`chatwoot:${cw.id}:${chat}`)).toMatchObject({
        messageCounts: { inbound: 2, outbound: 0, internal: 0 },
      });
    }
  });

  it('upserts the messages of a statement in key order, so a transaction locking them in that order waits instead of deadlocking', async () => {
    const { service } = anotherWorker();
    const created = (conversation: number, id: number) =>
      jobOf(
        cw,
        'chatwoot',
        messageEvent('message_created.json', conversation, id, 'Hi', '2026-04-22T10:00:00.000Z'),
      );
    const edited = (conversation: number, id: number) =>
      jobOf(
        cw,
        'chatwoot',
        messageEvent(
          'message_updated.json',
          conversation,
          id,
          'Hi (edited)',
          '2026-04-22T10:00:00.000Z',
          '2026-04-22T10:05:00.000Z',
        ),
      );
    await service.storeAndRoute(created(5301, 9801));
    await service.storeAndRoute(created(5302, 9811));
    const lower = (await conversationByKey(`chatwoot:${cw.id}:5301`)).id as string;
    const higher = (await conversationByKey(`chatwoot:${cw.id}:5302`)).id as string;

    // Both edited in one statement (resolved from memory together).
    await lockCrosswise(
      'conversation_messages',
      ['conversation_id', 'external_id'],
      [lower, '9801'],
      [higher, '9811'],
      () =>
        Promise.all([
          service.storeAndRoute(edited(5302, 9811)),
          service.storeAndRoute(edited(5301, 9801)),
        ]),
    );
    for (const chat of [5301, 5302]) {
      expect(await conversationByKey(`chatwoot:${cw.id}:${chat}`)).toMatchObject({
        lastMessage: { text: 'Hi (edited)' },
      });
    }
  });

  it('updates the identities of a statement in id order, so a transaction locking them in that order waits instead of deadlocking', async () => {
    const { service } = anotherWorker();
    const visitor = (chat: number, number: number, name: string) =>
      acceptedJob(chat, { number, name, email: null, phone: null });
    await service.storeAndRoute(visitor(64001, 63001, 'Ann'));
    await service.storeAndRoute(visitor(64002, 63002, 'Bob'));
    const identityOf = async (number: number) =>
      (
        (await app.dataSource.query(
          `SELECT id, name FROM contact_identities WHERE source_id = $1 AND external_id = $2`,
          [jivo.id, String(number)],
        )) as { id: string; name: string }[]
      )[0];

    // Both renamed in one statement (resolved from memory together).
    await lockCrosswise(
      'contact_identities',
      ['id'],
      [(await identityOf(63001)).id],
      [(await identityOf(63002)).id],
      () =>
        Promise.all([
          service.storeAndRoute(visitor(64004, 63002, 'Bobby')),
          service.storeAndRoute(visitor(64003, 63001, 'Anna')),
        ]),
    );
    expect((await identityOf(63001)).name).toBe('Anna');
    expect((await identityOf(63002)).name).toBe('Bobby');
  });

  it('remembers as many conversations as CONVERSATION_MEMORY_SIZE says, none at 0', async () => {
    const sized = anotherWorker();
    const forgetful = anotherWorker({ CONVERSATION_MEMORY_SIZE: 0 });
    const message = (conversation: number, id: number, at: string) =>
      jobOf(cw, 'chatwoot', messageEvent('message_created.json', conversation, id, 'Hi', at));
    await sized.service.storeAndRoute(message(5101, 9601, '2026-04-20T10:00:00.000Z'));
    await forgetful.service.storeAndRoute(message(5102, 9611, '2026-04-20T10:00:00.000Z'));

    const sizedNext = await sized.resolver.resolve(
      eventOf(message(5101, 9602, '2026-04-20T10:01:00.000Z')),
    );
    const forgetfulNext = await forgetful.resolver.resolve(
      eventOf(message(5102, 9612, '2026-04-20T10:01:00.000Z')),
    );
    expect(sizedNext.remembered).toBe(true);
    // Read instead: the same ids as the worker that remembers would give.
    expect(forgetfulNext).toMatchObject({ remembered: false });
    expect(forgetfulNext.conversationId).toBe(
      (await conversationByKey(`chatwoot:${cw.id}:5102`)).id,
    );
  });

  it('gives the next event of a remembered visitor the contact a merge by hand moved it to', async () => {
    const service = app.running.context.get(StoreAndRouteService);
    const resolver = app.running.context.get(ConversationResolver);
    const visitorJob = (visitor: number) => {
      return acceptedJob(visitor, { number: visitor, email: null, phone: null });
    };
    await service.storeAndRoute(visitorJob(58001));
    await service.storeAndRoute(visitorJob(58002));
    const contactOf = async (visitor: number) =>
      (
        (await app.dataSource.query(
          `SELECT contact_id FROM contact_identities WHERE source_id = $1 AND external_id = $2`,
          [jivo.id, String(visitor)],
        )) as { contact_id: string }[]
      )[0].contact_id;
    const [moved, kept] = [await contactOf(58001), await contactOf(58002)];
    expect(moved).not.toBe(kept);
    const before = visitorJob(58001);
    expect(await resolver.resolve(eventOf(before))).toMatchObject({
      remembered: true,
      contactId: moved,
    });
    // A newer event telling the same name: the identity's stamps move, the contact stays as it was.
    const rows = async () =>
      (await app.dataSource.query(
        `SELECT c.updated_at AS contact, i.field_stamps->'name'->>1 AS name_event
           FROM contact_identities i JOIN contacts c ON c.id = i.contact_id
          WHERE i.source_id = $1 AND i.external_id = '58001'`,
        [jivo.id],
      )) as { contact: Date; name_event: string }[];
    const [untouched] = await rows();
    await service.storeAndRoute(before);
    const [restamped] = await rows();
    expect(restamped.name_event).toBe(before.eventId);
    expect(restamped.contact).toEqual(untouched.contact);

    const merged = await app.admin('POST', '/api/contacts/merge', {
      intoContactId: kept,
      contactIds: [moved],
    });
    expect(merged.status).toBe(200);
    const after = visitorJob(58001);
    await service.storeAndRoute(after);
    const [stored] = (await app.dataSource.query(
      `SELECT canonical->'contact'->>'id' AS contact_id, conversation_id FROM events WHERE id = $1`,
      [after.eventId],
    )) as { contact_id: string; conversation_id: string }[];
    expect(stored.contact_id).toBe(kept);
    const conversation = (await app.admin('GET', `/api/conversations/${stored.conversation_id}`))
      .body;
    expect(conversation.contactId).toBe(kept);
  });

  it('reads back a conversation it has just made as the state the new row holds', async () => {
    // The read that makes a row does not read its columns back: their defaults must be the
    // empty state the worker assumes, or the first event would be applied to the wrong state.
    const conversations = app.running.context.get(ConversationsRepository);
    const key = `jivo:${jivo.id}:made-here`;
    const asked = [
      { key, sourceId: jivo.id, sourceKind: 'jivo', externalId: 'made-here', messageIds: ['m1'] },
    ];
    const made = (await conversations.snapshotsOfKeys(asked)).snapshots.get(key);
    const read = (await conversations.snapshotsOfKeys(asked)).snapshots.get(key);
    expect(made?.id).toMatch(/^conv_/);
    expect(read).toEqual(made);
  });

  it('keeps conversations and contacts when retention purges their events, and says so', async () => {
    const key = `chatwoot:${cw.id}:3001`;
    const before = await conversationByKey(key);
    expect(before.timeline.length).toBeGreaterThan(0);
    // Retention as it would run 31 days from now (30-day default): every event here is old.
    const later = new Date(Date.now() + 31 * 24 * 3600_000);
    const purged = await app.running.context.get(RetentionService).purge(later);
    expect(purged.events).toBeGreaterThan(0);

    const { timeline, eventsPurgedBefore, ...state } = await conversationByKey(key);
    const { timeline: _timeline, eventsPurgedBefore: _none, ...stateBefore } = before;
    expect(state).toEqual(stateBefore);
    expect(timeline).toEqual([]);
    expect(Date.parse(eventsPurgedBefore)).toBeGreaterThan(Date.now());
    const contact = await app.admin('GET', `/api/contacts/${state.contactId}`);
    expect(contact.status).toBe(200);
  });
});
