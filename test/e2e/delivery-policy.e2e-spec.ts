import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { Webhook } from 'standardwebhooks';
import { TransformSandboxPool } from '../../src/delivery/transform-sandbox';
import { DELIVERY_QUEUE } from '../../src/queues/queue-names';
import { SubscriptionSnapshot } from '../../src/subscriptions/subscription-snapshot';
import { fixtureText } from '../support/fixtures';
import { HttpSink, SinkRequest } from '../support/http-sink';
import { listAll, resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/** Issue 4's rules, each proven on real Postgres, Redis and a local HTTP sink. */
describe('delivery policies end to end', () => {
  let app: TestApp;
  let source: { id: string; token: string };
  const sink = new HttpSink();
  let messageNumber = 0;

  beforeAll(async () => {
    // A transform bomb then always dies of the heap cap, never of the deadline on a busy machine.
    app = await startTestApp({ TRANSFORM_TIMEOUT_MS: '30000' });
    await resetDatabase(app.dataSource);
    await sink.start();
    const created = await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'Acme' });
    source = created.body;
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  beforeEach(async () => {
    // Drained first: what an earlier test left queued (a retry of a succeeded delivery) must not
    // reach the sink after it was cleared for this one.
    await app.drainQueues();
    sink.requests.length = 0;
    sink.respondWith([]);
    for (const subscription of await listAll(app, '/api/subscriptions')) {
      await app.admin('DELETE', `/api/subscriptions/${subscription.id}`);
    }
  });

  async function subscribe(extra: Record<string, unknown> = {}) {
    const created = await app.admin('POST', '/api/subscriptions', {
      name: 'CRM',
      url: `${sink.url}/hook`,
      eventTypes: ['message.created'],
      ...extra,
    });
    expect(created.status).toBe(201);
    return created.body as { id: string; secret: string };
  }

  /** A Chatwoot message_created, made unique so dedupe lets each one through. */
  async function sendMessage(changes: { content?: string; channel?: string } = {}) {
    messageNumber += 1;
    const payload = JSON.parse(fixtureText('chatwoot', 'message_created.json'));
    payload.id = 900_000 + messageNumber;
    if (changes.content !== undefined) payload.content = changes.content;
    if (changes.channel !== undefined) payload.conversation.channel = changes.channel;
    const response = await app.post(`/webhooks/chatwoot/${source.token}`, JSON.stringify(payload));
    expect(response.status).toBe(200);
    return ((await response.json()) as { eventId: string }).eventId;
  }

  async function deliveriesOf(eventId: string) {
    const { status, body } = await app.admin('GET', `/api/events/${eventId}`);
    // 404 until the worker has stored the event.
    return (status === 200 ? body.deliveries : []) as {
      id: string;
      status: string;
      subscriptionId: string;
    }[];
  }

  async function deliveryDetail(deliveryId: string) {
    return (await app.admin('GET', `/api/deliveries/${deliveryId}`)).body;
  }

  async function settledDelivery(eventId: string, subscriptionId?: string) {
    return waitFor(async () => {
      const found = (await deliveriesOf(eventId)).find(
        (delivery) => !subscriptionId || delivery.subscriptionId === subscriptionId,
      );
      return found && ['succeeded', 'dead'].includes(found.status)
        ? deliveryDetail(found.id)
        : null;
    }, 20_000);
  }

  function headersOf(request: SinkRequest) {
    return {
      'webhook-id': String(request.headers['webhook-id']),
      'webhook-timestamp': String(request.headers['webhook-timestamp']),
      'webhook-signature': String(request.headers['webhook-signature']),
    };
  }

  it('delivers only what the filter accepts, shaped by the transform', async () => {
    const subscription = await subscribe({
      filter: { 'conversation.channel.type': 'whatsapp', 'message.text': { $regex: 'pedido' } },
      transform:
        '{ "name": contact.name, "text": message.text, "channel": conversation.channel.type }',
    });
    const wanted = await sendMessage({ content: 'Meu pedido 4471', channel: 'Channel::Whatsapp' });
    const otherChannel = await sendMessage({
      content: 'Meu pedido 4472',
      channel: 'Channel::WebWidget',
    });
    const otherText = await sendMessage({ content: 'Oi', channel: 'Channel::Whatsapp' });

    await waitFor(() => sink.requests.length >= 1);
    await app.drainQueues();
    expect(sink.requests).toHaveLength(1);
    const [request] = sink.requests;
    const body = new Webhook(subscription.secret).verify(request.body, headersOf(request));
    expect(body).toEqual({ name: 'Maria Souza', text: 'Meu pedido 4471', channel: 'whatsapp' });
    expect(request.headers['webhook-id']).toBe(wanted);
    expect(await deliveriesOf(otherChannel)).toEqual([]);
    expect(await deliveriesOf(otherText)).toEqual([]);
  });

  it('sends the body the source sent when the payload format is raw', async () => {
    const subscription = await subscribe({ payloadFormat: 'raw' });
    const eventId = await sendMessage({ content: 'raw please' });
    await waitFor(() => sink.requests.length >= 1);
    const [request] = sink.requests;
    const { body: stored } = await app.admin('GET', `/api/events/${eventId}`);
    expect(JSON.parse(request.body)).toEqual(stored.raw);
    expect(request.body).toContain('"content":"raw please"');
    expect(() =>
      new Webhook(subscription.secret).verify(request.body, headersOf(request)),
    ).not.toThrow();
  });

  it('fails a delivery at once, unretried, when its transform fails', async () => {
    await subscribe({ transform: '$undefinedFunction(message.text)' });
    const eventId = await sendMessage();
    const delivery = await settledDelivery(eventId);
    expect(delivery.status).toBe('dead');
    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.attempts[0].error).toMatch(/^transform failed: /);
    expect(sink.requests).toHaveLength(0);
  });

  it('a transform that kills its sandbox kills only its own delivery, event after event', async () => {
    const bomb = await subscribe({
      transform:
        '($f := function($s,$i){ $i = 0 ? $s : $f($s & $s, $i - 1) }; {"n": $length($f("x", 27))})',
    });
    const healthy = await subscribe({
      url: `${sink.url}/healthy`,
      transform: '{"text": message.text}',
    });
    for (const content of ['primeira', 'segunda']) {
      const eventId = await sendMessage({ content });
      const dead = await settledDelivery(eventId, bomb.id);
      expect(dead.status).toBe('dead');
      expect(dead.attempts).toHaveLength(1);
      expect(dead.attempts[0].error).toMatch(
        /^transform (needed more than its 128 MB heap|built a value larger than V8 can hold)$/,
      );
      expect((await settledDelivery(eventId, healthy.id)).status).toBe('succeeded');
    }
    expect(sink.requests.map((request) => [request.path, JSON.parse(request.body)])).toEqual([
      ['/healthy', { text: 'primeira' }],
      ['/healthy', { text: 'segunda' }],
    ]);
  });

  it('answers a catastrophic $regex filter at once, matched or not', async () => {
    await subscribe({ filter: { 'message.text': { $regex: '(a+)+$' } } });
    const unmatched = await sendMessage({ content: `${'a'.repeat(32)}!` });
    const matched = await sendMessage({ content: 'a'.repeat(32) });
    expect((await settledDelivery(matched)).status).toBe('succeeded');
    await app.drainQueues();
    expect(await deliveriesOf(unmatched)).toEqual([]);
    expect(sink.requests.map((request) => request.headers['webhook-id'])).toEqual([matched]);
  });

  it('succeeds on attempt 3 after 500, 500', async () => {
    await subscribe();
    sink.respondWith([{ status: 500 }, { status: 500 }], { status: 200 });
    const eventId = await sendMessage();
    const delivery = await settledDelivery(eventId);
    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts.map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([
      500, 500, 200,
    ]);
    expect(new Set(sink.requests.map((request) => request.headers['webhook-id']))).toEqual(
      new Set([eventId]),
    );
  });

  it('kills an always-500 delivery after its attempts, and bulk retry re-drives it to a healthy sink', async () => {
    const subscription = await subscribe({ retryPolicy: { maxAttempts: 3, schedule: [0.05] } });
    sink.respondWith([], { status: 500 });
    const first = await sendMessage();
    const second = await sendMessage();
    const dead = await settledDelivery(first);
    await settledDelivery(second);
    expect(dead.status).toBe('dead');
    expect(dead.attempts).toHaveLength(3);
    const deadList = await app.admin(
      'GET',
      `/api/deliveries?status=dead&subscriptionId=${subscription.id}`,
    );
    expect(deadList.body.data).toHaveLength(2);

    sink.requests.length = 0;
    sink.respondWith([], { status: 200 });
    const redrive = await app.admin('POST', '/api/deliveries/retry', {
      status: 'dead',
      subscriptionId: subscription.id,
    });
    expect(redrive).toEqual({ status: 202, body: { redriven: 2 } });
    await waitFor(() => sink.requests.length >= 2);
    await app.drainQueues();
    const redriven = await deliveryDetail(dead.id);
    expect(redriven.status).toBe('succeeded');
    expect(redriven.attempts.map((attempt: { statusCode: number }) => attempt.statusCode)).toEqual([
      500, 500, 500, 200,
    ]);
    expect(sink.requests.map((request) => request.headers['webhook-id']).sort()).toEqual(
      [first, second].sort(),
    );
  });

  it('retries one delivery on request', async () => {
    await subscribe({ retryPolicy: { maxAttempts: 1 } });
    sink.respondWith([{ status: 502 }], { status: 200 });
    const eventId = await sendMessage();
    const dead = await settledDelivery(eventId);
    expect(dead.status).toBe('dead');
    const retried = await app.admin('POST', `/api/deliveries/${dead.id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe('pending');
    const done = await waitFor(async () => {
      const detail = await deliveryDetail(dead.id);
      return detail.status === 'succeeded' ? detail : null;
    });
    expect(done.attempts).toHaveLength(2);
    expect((await app.admin('POST', `/api/deliveries/${dead.id}/retry`)).status).toBe(202);
    expect((await app.admin('POST', '/api/deliveries/dlv_nope/retry')).status).toBe(404);
  });

  it('disables a subscription answered 410 Gone, and delivers it nothing more', async () => {
    const subscription = await subscribe();
    sink.respondWith([{ status: 410 }], { status: 200 });
    const eventId = await sendMessage();
    const delivery = await settledDelivery(eventId);
    expect(delivery.status).toBe('dead');
    expect(delivery.attempts).toHaveLength(1);
    // The attempt is recorded, then the subscription disabled, then every process told: the
    // ingest job now sends at once, so wait for the telling, which is what the guarantee follows.
    const body = await waitFor(async () => {
      const read = await app.admin('GET', `/api/subscriptions/${subscription.id}`);
      return read.body.enabled === false && read.body;
    });
    expect(body.disabledReason).toMatch(/410/);
    const snapshot = app.running.context.get(SubscriptionSnapshot);
    await waitFor(async () => !(await snapshot.current()).byId.has(subscription.id));

    const later = await sendMessage();
    await app.drainQueues();
    expect(await deliveriesOf(later)).toEqual([]);
    expect(sink.requests).toHaveLength(1);
  });

  it('disables a subscription after N consecutive dead deliveries; enabling it re-drives nothing', async () => {
    const subscription = await subscribe({
      retryPolicy: { maxAttempts: 1 },
      disableAfterDeadDeliveries: 2,
    });
    sink.respondWith([], { status: 500 });
    await settledDelivery(await sendMessage());
    let state = (await app.admin('GET', `/api/subscriptions/${subscription.id}`)).body;
    expect(state).toMatchObject({ enabled: true, consecutiveDeadDeliveries: 1 });
    await settledDelivery(await sendMessage());
    state = (await app.admin('GET', `/api/subscriptions/${subscription.id}`)).body;
    expect(state.enabled).toBe(false);
    expect(state.disabledReason).toMatch(/2 consecutive deliveries died/);

    sink.requests.length = 0;
    sink.respondWith([], { status: 200 });
    const enabled = await app.admin('PATCH', `/api/subscriptions/${subscription.id}`, {
      enabled: true,
    });
    expect(enabled.body).toMatchObject({
      enabled: true,
      disabledReason: null,
      consecutiveDeadDeliveries: 0,
    });
    await app.drainQueues();
    expect(sink.requests).toHaveLength(0);
    const redrive = await app.admin('POST', '/api/deliveries/retry', { status: 'dead' });
    expect(redrive.body.redriven).toBe(2);
    await waitFor(() => sink.requests.length === 2);
  });

  it('waits as long as Retry-After asks on 429', async () => {
    await subscribe();
    sink.respondWith([{ status: 429, headers: { 'retry-after': '2' } }], { status: 200 });
    const eventId = await sendMessage();
    const delivery = await settledDelivery(eventId);
    expect(delivery.status).toBe('succeeded');
    const [first, second] = delivery.attempts;
    expect(first.statusCode).toBe(429);
    const waitedMs = Date.parse(second.startedAt) - Date.parse(first.startedAt);
    expect(waitedMs).toBeGreaterThanOrEqual(1900);
    expect(waitedMs).toBeLessThan(6000);
  });

  it('times out a hanging sink and tries again', async () => {
    await subscribe({ timeoutMs: 300 });
    sink.respondWith([{ status: 200, delayMs: 5000 }], { status: 200 });
    const eventId = await sendMessage();
    const delivery = await settledDelivery(eventId);
    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts[0]).toMatchObject({
      statusCode: null,
      error: 'timed out after 300 ms',
    });
    expect(delivery.attempts[0].durationMs).toBeLessThan(1500);
  });

  it('holds a 5/s rate limit while another subscription on the same events runs at full speed', async () => {
    const slow = await subscribe({ url: `${sink.url}/slow`, rateLimit: { max: 5, perSeconds: 1 } });
    await subscribe({ url: `${sink.url}/fast` });
    const count = 15;
    const started = Date.now();
    for (let index = 0; index < count; index += 1) await sendMessage();
    const byPath = (path: string) => sink.requests.filter((request) => request.path === path);
    await waitFor(() => byPath('/fast').length === count, 10_000);
    const fastDoneAt = Date.now();
    await waitFor(() => byPath('/slow').length === count, 15_000);

    const slowTimes = byPath('/slow').map((request) => request.receivedAt);
    for (const time of slowTimes) {
      const inWindow = slowTimes.filter((other) => other >= time && other < time + 900);
      expect(inWindow.length).toBeLessThanOrEqual(5);
    }
    // 15 at 5/s cannot all land in under two seconds; the other subscription did not wait for them.
    expect(Math.max(...slowTimes) - started).toBeGreaterThanOrEqual(1900);
    expect(fastDoneAt).toBeLessThan(Math.max(...slowTimes));
    // Waiting for a slot is not an attempt.
    await app.drainQueues();
    const slowDeliveries = await app.admin(
      'GET',
      `/api/deliveries?subscriptionId=${slow.id}&limit=50`,
    );
    expect(slowDeliveries.body.data).toHaveLength(count);
    for (const delivery of slowDeliveries.body.data) {
      expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    }
  });

  it('replays an event as new deliveries with the same webhook-id', async () => {
    const first = await subscribe({ url: `${sink.url}/one` });
    const second = await subscribe({ url: `${sink.url}/two` });
    const eventId = await sendMessage();
    await waitFor(() => sink.requests.length === 2);
    await app.drainQueues();
    const original = await deliveriesOf(eventId);

    const toAll = await app.admin('POST', `/api/events/${eventId}/replay`, {});
    expect(toAll.status).toBe(202);
    expect(toAll.body.data).toHaveLength(2);
    const chosen = await app.admin('POST', `/api/events/${eventId}/replay`, {
      subscriptionIds: [second.id],
    });
    expect(chosen.body.data).toEqual([expect.objectContaining({ subscriptionId: second.id })]);
    await waitFor(() => sink.requests.length === 5);
    await app.drainQueues();

    expect(new Set(sink.requests.map((request) => request.headers['webhook-id']))).toEqual(
      new Set([eventId]),
    );
    expect(sink.requests.filter((request) => request.path === '/one')).toHaveLength(2);
    expect(sink.requests.filter((request) => request.path === '/two')).toHaveLength(3);
    const all = await deliveriesOf(eventId);
    expect(all).toHaveLength(5);
    expect(all.filter((delivery) => original.some((o) => o.id === delivery.id))).toHaveLength(2);
    expect(first.id).not.toBe(second.id);

    const unknown = await app.admin('POST', `/api/events/${eventId}/replay`, {
      subscriptionIds: ['sub_missing'],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.details[0]).toEqual({
      field: 'subscriptionIds',
      problems: ['subscription sub_missing does not exist'],
    });
    expect((await app.admin('POST', '/api/events/evt_missing/replay', {})).status).toBe(404);
  });

  it('runs a fan-out job again without sending a failed delivery before its retry is due', async () => {
    sink.respondWith([{ status: 500, body: 'down' }]);
    await subscribe({ retryPolicy: { maxAttempts: 3, schedule: [3] } });
    const eventId = await sendMessage();
    const failed = (await waitFor(async () => {
      const [delivery] = await deliveriesOf(eventId);
      return delivery?.status === 'failed' ? delivery : null;
    }))!;
    const nextAttemptAt = Date.parse((await deliveryDetail(failed.id)).nextAttemptAt);
    // The retry job is lost (say a crash before it was queued) and the fan-out job runs again.
    const queue = app.running.context.get<Queue>(getQueueToken(DELIVERY_QUEUE));
    expect(await queue.remove(failed.id)).toBe(1);
    await queue.add(
      'delivery.fanout',
      { eventId, deliveries: [{ deliveryId: failed.id, run: 0 }] },
      { jobId: `${eventId}-again` },
    );

    const settled = await settledDelivery(eventId);
    expect(settled.status).toBe('succeeded');
    expect(settled.attempts).toHaveLength(2);
    expect(sink.requests).toHaveLength(2);
    expect(sink.requests[1].receivedAt).toBeGreaterThanOrEqual(nextAttemptAt - 50);
  });

  it('signs with both secrets during a rotation, and only the new one after it', async () => {
    const subscription = await subscribe();
    const oldSecret = subscription.secret;
    const rotated = await app.admin('POST', `/api/subscriptions/${subscription.id}/rotate-secret`, {
      graceSeconds: 3600,
    });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.body.previousSecretExpiresAt).toEqual(expect.any(String));
    expect(
      (await app.admin('GET', `/api/subscriptions/${subscription.id}`)).body.secret,
    ).toBeUndefined();

    await sendMessage();
    await waitFor(() => sink.requests.length === 1);
    const during = sink.requests[0];
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify(during.body, headersOf(during))).not.toThrow();
    expect(() => new Webhook(newSecret).verify(during.body, headersOf(during))).not.toThrow();

    const ended = await app.admin('POST', `/api/subscriptions/${subscription.id}/rotate-secret`, {
      graceSeconds: 0,
    });
    const latest = ended.body.secret as string;
    await sendMessage();
    await waitFor(() => sink.requests.length === 2);
    const after = sink.requests[1];
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(latest).verify(after.body, headersOf(after))).not.toThrow();
    expect(() => new Webhook(newSecret).verify(after.body, headersOf(after))).toThrow();
  });
});

describe('the transform sandboxes of an app', () => {
  it('start when a transform first runs, and stop with the app', async () => {
    const sink = new HttpSink();
    await sink.start();
    const app = await startTestApp({ TRANSFORM_SANDBOXES: '1' });
    const pool = app.running.context.get(TransformSandboxPool);
    try {
      expect(pool.size).toBe(0);
      const created = await app.admin('POST', '/api/subscriptions', {
        name: 'sandboxed',
        url: `${sink.url}/hook`,
        eventTypes: ['*'],
        transform: '{ "kind": type }',
      });
      const sent = await app.admin('POST', `/api/subscriptions/${created.body.id}/test`, {});
      expect(sent.body).toMatchObject({ succeeded: true });
      expect(pool.size).toBe(1);
      await app.admin('DELETE', `/api/subscriptions/${created.body.id}`);
    } finally {
      await app.close();
      await sink.stop();
    }
    expect(pool.size).toBe(0);
  });
});
