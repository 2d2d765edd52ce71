import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import type { Logger as PinoLogger } from 'pino';
import { LINE_LOGGER } from '../../src/common/logging';
import { Settings } from '../../src/config/settings';
import { DeliveriesRepository } from '../../src/delivery/deliveries.repository';
import { DeliveryAttempts } from '../../src/delivery/delivery-attempts';
import { DeliverySender } from '../../src/delivery/delivery-sender';
import { IngestWatermark } from '../../src/delivery/ingest-watermark';
import { OrderedLanes } from '../../src/delivery/ordered-lanes';
import { WebhookDispatcher } from '../../src/delivery/webhook-dispatcher';
import { EventsRepository, EventToStore } from '../../src/events/events.repository';
import { MetricsService } from '../../src/monitoring/metrics.service';
import { SharedRedis } from '../../src/queues/shared-redis';
import { INGEST_QUEUE } from '../../src/queues/queue-names';
import { fixtureText } from '../support/fixtures';
import { HttpSink, SinkRequest, SinkResponse } from '../support/http-sink';
import { checkOrdering } from '../support/ordering-check';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/** Issue 14 in one process: the lane rules, each on real Postgres, Redis and an HTTP sink. */
describe('ordered delivery per conversation', () => {
  let app: TestApp;
  let source: { id: string; token: string };
  // Counted when the answer goes out, as a receiver would have processed it.
  const sink = new HttpSink({
    onAnswered: (request, reply) => {
      if (reply.status < 300)
        firstAccepted.push(`${request.path} ${request.headers['webhook-id']}`);
    },
  });
  /** The sink's answer to one request, by the message's conversation and number. */
  let answer: (message: SentMessage, attempt: number) => SinkResponse = () => ({ status: 200 });
  /** Webhook ids (event ids) in the order the sink first answered them 2xx. */
  let firstAccepted: string[] = [];
  const attemptsOf = new Map<string, number>();
  const sentById = new Map<string, SentMessage>();
  let messageNumber = 0;

  interface SentMessage {
    eventId: string;
    conversation: number;
    sequence: number;
  }

  beforeAll(async () => {
    app = await startTestApp({ ORDERING_SETTLE_MS: '50', ORDERING_SWEEP_INTERVAL_SECONDS: '1' });
    await resetDatabase(app.dataSource);
    await sink.start();
    sink.answerWith((request: SinkRequest) => {
      const id = String(request.headers['webhook-id']);
      const message = sentById.get(id);
      const attempt = (attemptsOf.get(`${request.path} ${id}`) ?? 0) + 1;
      attemptsOf.set(`${request.path} ${id}`, attempt);
      return message ? answer(message, attempt) : { status: 200 };
    });
    source = (await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'Ordered' })).body;
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  beforeEach(async () => {
    answer = () => ({ status: 200 });
    firstAccepted = [];
    attemptsOf.clear();
    sink.requests.length = 0;
    await app.clearSubscriptions();
  });

  async function subscribe(path: string, extra: Record<string, unknown> = {}) {
    const created = await app.admin('POST', '/api/subscriptions', {
      name: `ordered ${path}`,
      url: `${sink.url}${path}`,
      eventTypes: ['message.created'],
      ordering: 'conversation',
      ...extra,
    });
    expect(created.status).toBe(201);
    return created.body as { id: string; ordering: string; onDead: string };
  }

  /** A Chatwoot message_created in conversation `conversation`; null conversation: none. */
  async function send(conversation: number | null, sequence: number): Promise<SentMessage> {
    messageNumber += 1;
    const payload = JSON.parse(fixtureText('chatwoot', 'message_created.json'));
    payload.id = 700_000 + messageNumber;
    payload.content = `conversation ${conversation} message ${sequence}`;
    if (conversation === null) delete payload.conversation;
    else payload.conversation.id = payload.conversation.display_id = 50_000 + conversation;
    const response = await app.post(`/webhooks/chatwoot/${source.token}`, JSON.stringify(payload));
    expect(response.status).toBe(200);
    const { eventId } = (await response.json()) as { eventId: string };
    const sent = { eventId, conversation: conversation ?? -1, sequence };
    sentById.set(eventId, sent);
    return sent;
  }

  /** Sends `perConversation` messages to each conversation, one after the other within each. */
  async function sendConversations(conversations: number[], perConversation: number) {
    const sent = new Map<number, SentMessage[]>();
    await Promise.all(
      conversations.map(async (conversation) => {
        const list: SentMessage[] = [];
        for (let sequence = 1; sequence <= perConversation; sequence++) {
          list.push(await send(conversation, sequence));
        }
        sent.set(conversation, list);
      }),
    );
    return sent;
  }

  function orderingAt(path: string, sent: Map<number, SentMessage[]>) {
    const accepted = new Map(
      [...sent].map(([conversation, list]) => [
        String(conversation),
        list.map((message) => `${path} ${message.eventId}`),
      ]),
    );
    return checkOrdering(accepted, firstAccepted);
  }

  /** An event stored by the test with one delivery in `laneKey`, accepted at a fixed time + ms. */
  function eventInLane(
    name: string,
    subscriptionId: string,
    laneKey: string,
    receivedAtMs: number,
  ): EventToStore {
    const receivedAt = new Date(Date.parse('2026-11-24T10:00:00.000Z') + receivedAtMs);
    return {
      id: `evt_${name}`,
      sourceId: source.id,
      sourceKind: 'chatwoot',
      sourceEvent: null,
      sourceDeliveryId: null,
      type: 'message.created',
      status: 'routed',
      error: null,
      conversationKey: laneKey,
      conversationId: null,
      occurredAt: receivedAt.toISOString(),
      receivedAt: receivedAt.toISOString(),
      rawBody: '{}',
      canonical: JSON.stringify({ id: `evt_${name}` }),
      deliveries: [{ id: `dlv_${name}`, subscriptionId, laneKey }],
    };
  }

  async function deliveryOf(eventId: string, subscriptionId: string) {
    const { body } = await app.admin('GET', `/api/events/${eventId}`);
    return (body?.deliveries ?? []).find(
      (delivery: { subscriptionId: string }) => delivery.subscriptionId === subscriptionId,
    );
  }

  async function statusesOf(messages: SentMessage[], subscriptionId: string) {
    return Promise.all(
      messages.map(async (message) => (await deliveryOf(message.eventId, subscriptionId))?.status),
    );
  }

  it('sends a conversation one at a time in accept order while a failing head holds back only its own conversation', async () => {
    const ordered = await subscribe('/ordered', { retryPolicy: { schedule: [0.5, 0.5, 0.5] } });
    const unordered = await subscribe('/unordered', {
      ordering: 'none',
      retryPolicy: { schedule: [0.5, 0.5, 0.5] },
    });
    expect(ordered).toMatchObject({ ordering: 'conversation', onDead: 'release' });
    expect(unordered).toMatchObject({ ordering: 'none' });
    // Conversation 1's first message fails twice; everything else succeeds at once.
    answer = (message, attempt) =>
      message.conversation === 1 && message.sequence === 1 && attempt <= 2
        ? { status: 500 }
        : { status: 200, delayMs: Math.floor(Math.random() * 20) };
    const sent = await sendConversations([1, 2, 3], 5);
    const loose = await send(null, 1);

    await waitFor(() => firstAccepted.length === 16 * 2 - 0, 20_000);
    const report = orderingAt('/ordered', sent);
    expect(report).toMatchObject({ expected: 15, missing: 0, reordered: 0 });
    // Conversations 2 and 3, the event without a conversation and the unordered subscription did
    // not wait for conversation 1's retries.
    const firstOfOne = firstAccepted.indexOf(`/ordered ${sent.get(1)![0].eventId}`);
    for (const conversation of [2, 3]) {
      for (const message of sent.get(conversation)!) {
        expect(firstAccepted.indexOf(`/ordered ${message.eventId}`)).toBeLessThan(firstOfOne);
      }
    }
    expect(firstAccepted.indexOf(`/ordered ${loose.eventId}`)).toBeLessThan(firstOfOne);
    expect(firstAccepted.indexOf(`/unordered ${sent.get(1)![4].eventId}`)).toBeLessThan(firstOfOne);
    // The unordered subscription let conversation 1's later messages overtake the failing one.
    const unorderedReport = orderingAt('/unordered', new Map([[1, sent.get(1)!]]));
    expect(unorderedReport).toMatchObject({ missing: 0, reordered: 1 });

    const delivery = await deliveryOf(sent.get(1)![0].eventId, ordered.id);
    expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 3 });
    expect(delivery.conversationKey).toMatch(/^chatwoot:.+:50001$/);
  });

  it('onDead "release": a dead head lets the next one go, recorded on it', async () => {
    const subscription = await subscribe('/release', {
      retryPolicy: { maxAttempts: 2, schedule: [0.1] },
    });
    answer = (message) => (message.sequence === 2 ? { status: 500 } : { status: 200 });
    const sent = await sendConversations([10], 4);
    const [first, second, third, fourth] = sent.get(10)!;
    await waitFor(
      async () => (await deliveryOf(fourth.eventId, subscription.id))?.status === 'succeeded',
      20_000,
    );

    expect(await statusesOf([first, second, third, fourth], subscription.id)).toEqual([
      'succeeded',
      'dead',
      'succeeded',
      'succeeded',
    ]);
    const dead = await deliveryOf(second.eventId, subscription.id);
    const released = await deliveryOf(third.eventId, subscription.id);
    expect(released.orderingNote).toBe(`released after ${dead.id} died`);
    expect(firstAccepted).toEqual(
      [first, third, fourth].map((message) => `/release ${message.eventId}`),
    );
  });

  it('onDead "block": a dead head parks its conversation, listed with its reason, until re-driven or skipped', async () => {
    const subscription = await subscribe('/block', {
      onDead: 'block',
      retryPolicy: { maxAttempts: 2, schedule: [0.1] },
      disableAfterDeadDeliveries: 0,
    });
    let healthy = false;
    answer = (message) => (message.sequence === 2 && !healthy ? { status: 500 } : { status: 200 });
    const sent = await sendConversations([20, 21], 4);
    const twenty = sent.get(20)!;
    const twentyOne = sent.get(21)!;
    await waitFor(async () => {
      const { body } = await app.admin(
        'GET',
        `/api/subscriptions/${subscription.id}/conversations?state=blocked`,
      );
      return body.length === 2 && body.every((lane: { held: number }) => lane.held === 2);
    }, 20_000);
    const { body: lanes } = await app.admin(
      'GET',
      `/api/subscriptions/${subscription.id}/conversations`,
    );
    const blocked = lanes.find((lane: { conversationKey: string }) =>
      lane.conversationKey.endsWith(':50020'),
    );
    expect(blocked).toMatchObject({
      state: 'blocked',
      held: 2,
      head: {
        eventId: twenty[1].eventId,
        attemptCount: 2,
        lastStatusCode: 500,
        lastError: 'HTTP 500',
      },
    });
    expect(await statusesOf(twenty, subscription.id)).toEqual([
      'succeeded',
      'blocked',
      'held',
      'held',
    ]);

    // Held deliveries show in the metrics, with the age of the oldest.
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    expect(metrics).toMatch(/^webhook_router_deliveries_held 4$/m);
    expect(metrics).toMatch(/^webhook_router_deliveries_held_oldest_age_seconds [0-9.]+$/m);

    // Re-driven: the head goes first, then the rest in order.
    healthy = true;
    const redriven = await app.admin(
      'POST',
      `/api/subscriptions/${subscription.id}/conversations/redrive`,
      {
        conversationKey: blocked.conversationKey,
      },
    );
    expect(redriven.status).toBe(200);
    await waitFor(
      async () =>
        (await statusesOf(twenty, subscription.id)).every((status) => status === 'succeeded'),
      20_000,
    );
    expect(orderingAt('/block', new Map([[20, twenty]]))).toMatchObject({
      missing: 0,
      reordered: 0,
    });

    // Skipped: the head ends dead, and the next goes, noted.
    const other = lanes.find((lane: { conversationKey: string }) =>
      lane.conversationKey.endsWith(':50021'),
    );
    const skipped = await app.admin(
      'POST',
      `/api/subscriptions/${subscription.id}/conversations/skip`,
      {
        conversationKey: other.conversationKey,
      },
    );
    expect(skipped).toMatchObject({ status: 200, body: { skipped: other.head.deliveryId } });
    await waitFor(
      async () =>
        (await statusesOf(twentyOne, subscription.id)).join() ===
        'succeeded,dead,succeeded,succeeded',
      20_000,
    );
    expect((await deliveryOf(twentyOne[2].eventId, subscription.id)).orderingNote).toBe(
      `released after ${other.head.deliveryId} was skipped by an operator`,
    );
    expect(
      firstAccepted.filter((entry) => twentyOne.some((m) => entry.endsWith(m.eventId))),
    ).toEqual(
      [twentyOne[0], twentyOne[2], twentyOne[3]].map((message) => `/block ${message.eventId}`),
    );

    // Nothing blocked is left; a skip with nothing to skip is a 409, an unknown subscription a 404.
    expect(
      (await app.admin('GET', `/api/subscriptions/${subscription.id}/conversations`)).body,
    ).toEqual([]);
    expect(
      (
        await app.admin('POST', `/api/subscriptions/${subscription.id}/conversations/skip`, {
          conversationKey: other.conversationKey,
        })
      ).status,
    ).toBe(409);
    expect((await app.admin('GET', '/api/subscriptions/sub_nope/conversations')).status).toBe(404);
    expect(
      (await app.admin('POST', `/api/subscriptions/${subscription.id}/conversations/skip`, {}))
        .status,
    ).toBe(400);
  });

  it('a rate-limited ordered subscription keeps each conversation in order', async () => {
    const subscription = await subscribe('/limited', { rateLimit: { max: 4, perSeconds: 1 } });
    answer = () => ({ status: 200, delayMs: Math.floor(Math.random() * 30) });
    const sent = await sendConversations([30, 31, 32], 4);
    await waitFor(() => firstAccepted.length === 12, 30_000);
    expect(orderingAt('/limited', sent)).toMatchObject({ expected: 12, missing: 0, reordered: 0 });
    // 12 deliveries at 4 a second took about three windows.
    const times = sink.requests.map((request) => request.receivedAt);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(1_500);
    expect(subscription.id).toBeDefined();
  });

  it('a statement storing webhooks of a conversation with nothing unfinished makes the earliest its head, the others held', async () => {
    const subscription = await subscribe('/round');
    const events = app.running.context.get(EventsRepository);
    const suffix = Date.now();
    const laneKey = `chatwoot:round:${suffix}`;
    const stored = (name: string, receivedAtMs: number) =>
      eventInLane(`round_${name}_${suffix}`, subscription.id, laneKey, receivedAtMs);
    // The later accept listed first: the place in the lane decides, not the order in the round.
    const round = await events.insertRound(app.dataSource.manager, [
      stored('later', 5),
      stored('earlier', 0),
    ]);
    expect([...round.heads]).toEqual([`dlv_round_earlier_${suffix}`]);
    // Stored while that head is unfinished: held behind it.
    const next = await events.insertRound(app.dataSource.manager, [stored('next', 10)]);
    expect(next.heads.size).toBe(0);
    const statuses = (await app.dataSource.query(
      `SELECT id, status, run FROM deliveries WHERE lane_key = $1 ORDER BY lane_at`,
      [laneKey],
    )) as { id: string; status: string; run: number }[];
    expect(statuses.map(({ status, run }) => [status, run])).toEqual([
      ['pending', 0],
      ['held', 0],
      ['held', 0],
    ]);
    // The ingest job sends such a head with no job: the first-attempt sweep, which waits out its
    // subscription's timeout, is the one to queue it again, not the lane sweep's fixed 30 s.
    const repository = app.running.context.get(DeliveriesRepository);
    const head = `dlv_round_earlier_${suffix}`;
    await new Promise((resolve) => setTimeout(resolve, 5));
    const firstAttempts = await repository.unsentFirstAttempts('', 0, 0, 10_000);
    expect(firstAttempts.map((delivery) => delivery.id)).toContain(head);
    const laneSweep = await repository.untouched('', 0, 10_000, true);
    expect(laneSweep.map((delivery) => delivery.id)).not.toContain(head);
  });

  it('a head loaded before an earlier webhook of its conversation was stored steps back, though the reading that lets it go came after', async () => {
    const subscription = await subscribe('/stale-load');
    const context = app.running.context;
    const events = context.get(EventsRepository);
    const suffix = Date.now();
    const laneKey = `chatwoot:stale-load:${suffix}`;
    // The later webhook is stored first, as its lane's head, and loaded to be sent.
    await events.insertRound(app.dataSource.manager, [
      eventInLane(`stale_later_${suffix}`, subscription.id, laneKey, 5),
    ]);
    const loaded = await context.get(DeliveryAttempts).loadForSending(`dlv_stale_later_${suffix}`);
    expect(loaded).toMatchObject({ overtaken: false });
    // Then the earlier one is stored (its ingest job done), before the watermark is read.
    await events.insertRound(app.dataSource.manager, [
      eventInLane(`stale_earlier_${suffix}`, subscription.id, laneKey, 0),
    ]);
    // A watermark with no reading yet: its first one, answered after the load, lets the head go.
    const sender = new DeliverySender(
      context.get(DeliveryAttempts),
      context.get(WebhookDispatcher),
      context.get(Settings),
      context.get(MetricsService),
      context.get(OrderedLanes),
      new IngestWatermark(context.get<Queue>(getQueueToken(INGEST_QUEUE)), context.get(Settings)),
      context.get(SharedRedis),
      context.get<PinoLogger>(LINE_LOGGER),
    );
    expect(await sender.sendLoaded(loaded!, 0, false)).toEqual({ kind: 'done' });
    await waitFor(() => firstAccepted.length === 2, 10_000);
    expect(firstAccepted).toEqual([
      `/stale-load evt_stale_earlier_${suffix}`,
      `/stale-load evt_stale_later_${suffix}`,
    ]);
  });

  it('a head stepping back while the head ahead of it finishes leaves its conversation going, not stuck until the sweep', async () => {
    const subscription = await subscribe('/step-back');
    const context = app.running.context;
    const events = context.get(EventsRepository);
    const repository = context.get(DeliveriesRepository);
    const suffix = Date.now();
    const laneKey = `chatwoot:step-back:${suffix}`;
    const earlier = `dlv_step_earlier_${suffix}`;
    const later = `dlv_step_later_${suffix}`;
    // Two workers stored the two webhooks at once, each seeing nothing unfinished: two heads.
    await events.insertRound(app.dataSource.manager, [
      eventInLane(`step_later_${suffix}`, subscription.id, laneKey, 5),
    ]);
    await events.insertRound(app.dataSource.manager, [
      eventInLane(`step_earlier_${suffix}`, subscription.id, laneKey, 0),
    ]);
    await app.dataSource.query(`UPDATE deliveries SET status = 'pending' WHERE id = $1`, [earlier]);
    // The later head steps back while the earlier one is being recorded: its demotion sees the
    // earlier one in flight, and the earlier one's release (not called here: it ran before the
    // demotion committed) saw the later one pending. Nothing else will promote the later one.
    const promote = repository.promoteHeads.bind(repository);
    const spy = jest
      .spyOn(repository, 'promoteHeads')
      .mockImplementation(async (lanes, options) => {
        const heads = await promote(lanes, options);
        if (options?.demote) {
          await app.dataSource.query(
            `UPDATE deliveries SET status = 'succeeded', updated_at = now() WHERE id = $1`,
            [earlier],
          );
        }
        return heads;
      });
    try {
      await context
        .get(OrderedLanes)
        .stepBack({ id: later, run: 0, subscriptionId: subscription.id, laneKey });
    } finally {
      spy.mockRestore();
    }
    const [row] = (await app.dataSource.query(`SELECT status, run FROM deliveries WHERE id = $1`, [
      later,
    ])) as { status: string; run: number }[];
    expect(row.status).not.toBe('held');
    expect(row.run).toBe(1);
    await waitFor(() => firstAccepted.includes(`/step-back evt_step_later_${suffix}`), 10_000);
  });

  it('a webhook accepted earlier but stored later (its ingest job retried) still goes first', async () => {
    const subscription = await subscribe('/late');
    // The first webhook of conversation 50 is accepted now, but its ingest job runs only in 1.5 s
    // (as after a failed attempt); the second is accepted and stored at once.
    const payload = JSON.parse(fixtureText('chatwoot', 'message_created.json'));
    payload.id = 650_001;
    payload.conversation.id = payload.conversation.display_id = 50_050;
    const early: SentMessage = { eventId: `evt_late_${Date.now()}`, conversation: 50, sequence: 1 };
    sentById.set(early.eventId, early);
    const ingest = app.running.context.get<Queue>(getQueueToken(INGEST_QUEUE));
    await ingest.add(
      'webhook.received',
      {
        eventId: early.eventId,
        sourceId: source.id,
        sourceKind: 'chatwoot',
        sourceDeliveryId: null,
        receivedAt: new Date().toISOString(),
        rawBody: JSON.stringify(payload),
      },
      { jobId: early.eventId, delay: 1_500 },
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const later = await send(50, 2);
    await waitFor(
      async () =>
        (await deliveryOf(later.eventId, subscription.id))?.status === 'held' ||
        (await deliveryOf(later.eventId, subscription.id))?.status === 'pending',
      5_000,
    );
    // While the earlier one waits in the ingest queue, the later one is not sent.
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(firstAccepted).toEqual([]);
    await waitFor(() => firstAccepted.length === 2, 20_000);
    expect(firstAccepted).toEqual([early, later].map((message) => `/late ${message.eventId}`));
  });

  it('a re-driven dead delivery and a replayed event enter their conversation at the tail', async () => {
    const subscription = await subscribe('/tail', { retryPolicy: { maxAttempts: 1 } });
    let failFirst = true;
    answer = (message) => (message.sequence === 1 && failFirst ? { status: 500 } : { status: 200 });
    const sent = await sendConversations([40], 3);
    const [first, second, third] = sent.get(40)!;
    await waitFor(
      async () =>
        (await statusesOf([first, second, third], subscription.id)).join() ===
        'dead,succeeded,succeeded',
      20_000,
    );

    failFirst = false;
    const dead = await deliveryOf(first.eventId, subscription.id);
    // Held behind nothing: it is the only one left, so it goes at once, after the others.
    const retried = await app.admin('POST', `/api/deliveries/${dead.id}/retry`);
    expect(retried.status).toBe(202);
    await waitFor(
      async () => (await deliveryOf(first.eventId, subscription.id)).status === 'succeeded',
      20_000,
    );

    const fourth = await send(40, 4);
    const replayed = await app.admin('POST', `/api/events/${second.eventId}/replay`, {
      subscriptionIds: [subscription.id],
    });
    expect(replayed.status).toBe(202);
    expect(replayed.body.data[0]).toMatchObject({
      conversationKey: expect.stringMatching(/:50040$/),
    });
    const fifth = await send(40, 5);
    await waitFor(() => firstAccepted.length === 6, 20_000);
    expect(firstAccepted).toEqual(
      [second, third, first, fourth, second, fifth].map((message) => `/tail ${message.eventId}`),
    );
  });
});
