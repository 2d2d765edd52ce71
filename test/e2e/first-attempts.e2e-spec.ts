import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { FIRST_ATTEMPT_MARGIN_MS } from '../../src/delivery/deliveries.service';
import { fanOutJobId } from '../../src/delivery/stranded-deliveries';
import { DELIVERY_QUEUE, INGEST_QUEUE } from '../../src/queues/queue-names';
import { redisOptionsFromUrl } from '../../src/queues/redis-connection';
import { AdminClient } from '../support/admin-client';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { buildProject, freePort, RouterProcess } from '../support/processes';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import {
  TEST_ADMIN_KEY,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  testEnvironment,
  testSettings,
} from '../support/test-settings';
import { waitFor } from '../support/wait-for';

let messageNumber = 0;

/** A unique Chatwoot message (the dedupe window would drop a repeated one). */
function uniqueMessage(conversation?: number): string {
  messageNumber += 1;
  const payload = JSON.parse(fixtureText('chatwoot', 'message_created.json'));
  payload.id = 900_000 + messageNumber;
  if (conversation !== undefined) {
    payload.conversation.id = payload.conversation.display_id = conversation;
  }
  return JSON.stringify(payload);
}

describe('first attempts made by the ingest job', () => {
  let app: TestApp;
  let source: { id: string; token: string };
  let deliveryQueue: Queue;
  let ingestQueue: Queue;
  const sink = new HttpSink();

  beforeAll(async () => {
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    await sink.start();
    deliveryQueue = app.running.context.get<Queue>(getQueueToken(DELIVERY_QUEUE));
    ingestQueue = app.running.context.get<Queue>(getQueueToken(INGEST_QUEUE));
    source = (await app.admin('POST', '/api/sources', { name: 'cw', kind: 'chatwoot' })).body;
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  beforeEach(async () => {
    await app.clearSubscriptions();
    sink.requests.length = 0;
    sink.respondWith([]);
  });

  async function subscribe(testApp: TestApp, name: string, extra: Record<string, unknown> = {}) {
    const created = await testApp.admin('POST', '/api/subscriptions', {
      name,
      url: `${sink.url}/${name}`,
      eventTypes: ['message.created'],
      ...extra,
    });
    expect(created.status).toBe(201);
    return created.body as { id: string };
  }

  async function send(testApp: TestApp, token: string, conversation?: number): Promise<string> {
    const response = await testApp.post(`/webhooks/chatwoot/${token}`, uniqueMessage(conversation));
    expect(response.status).toBe(200);
    return ((await response.json()) as { eventId: string }).eventId;
  }

  async function deliveriesOf(testApp: TestApp, eventId: string) {
    const read = await testApp.admin('GET', `/api/events/${eventId}`);
    return (read.status === 200 ? read.body.deliveries : []) as {
      id: string;
      status: string;
      attemptCount: number;
    }[];
  }

  it('sends every unordered delivery of an event from the ingest job, with no fan-out job', async () => {
    await subscribe(app, 'crm');
    await subscribe(app, 'bi');
    const eventId = await send(app, source.token);
    await waitFor(() => sink.requests.length === 2);
    await app.drainQueues();

    const deliveries = await deliveriesOf(app, eventId);
    expect(deliveries).toHaveLength(2);
    for (const delivery of deliveries) {
      expect(delivery).toMatchObject({ status: 'succeeded', attemptCount: 1 });
    }
    const first = [...deliveries].sort((a, b) => a.id.localeCompare(b.id))[0];
    expect(await deliveryQueue.getJob(fanOutJobId(eventId, first.id))).toBeUndefined();
    expect(sink.requests.map((request) => request.headers['webhook-id'])).toEqual([
      eventId,
      eventId,
    ]);
  });

  it('does not keep the ingest job waiting for a slow receiver', async () => {
    sink.respondWith([], { status: 200, body: 'slow', delayMs: 2_000 });
    await subscribe(app, 'slow');
    const eventId = await send(app, source.token);
    await waitFor(() => sink.requests.length === 1);
    // The receiver holds its answer: the ingest job is done, the attempt not yet recorded.
    expect(await ingestQueue.getJobState(eventId)).toBe('completed');
    expect(await deliveriesOf(app, eventId)).toMatchObject([{ status: 'pending' }]);

    await app.drainQueues();
    expect(await deliveriesOf(app, eventId)).toMatchObject([
      { status: 'succeeded', attemptCount: 1 },
    ]);
  });

  it('queues a failed first attempt for its retry, as the fan-out job did', async () => {
    sink.respondWith([{ status: 503, body: 'busy' }]);
    await subscribe(app, 'flaky', { retryPolicy: { schedule: [1] } });
    const eventId = await send(app, source.token);
    await waitFor(async () => (await deliveriesOf(app, eventId))[0]?.status === 'failed');
    const [delivery] = await deliveriesOf(app, eventId);
    expect(['delayed', 'waiting', 'active']).toContain(
      await deliveryQueue.getJobState(delivery.id),
    );
    await waitFor(async () => (await deliveriesOf(app, eventId))[0].status === 'succeeded');
    expect(sink.requests).toHaveLength(2);
  });

  it('sends the ordered delivery of a conversation with nothing unfinished as its head, with no job; the next waits held behind it', async () => {
    sink.respondWith([{ status: 200, body: 'slow', delayMs: 1_000 }]);
    await subscribe(app, 'ordered', { ordering: 'conversation' });
    const first = await send(app, source.token, 81_001);
    await waitFor(() => sink.requests.length === 1);
    const [head] = await deliveriesOf(app, first);
    expect(head).toMatchObject({ status: 'pending', attemptCount: 0 });
    // Never promoted (a promotion starts run 1 with its job): it started as the head, in run 0.
    const [{ run }] = (await app.dataSource.query('SELECT run FROM deliveries WHERE id = $1', [
      head.id,
    ])) as { run: number }[];
    expect(run).toBe(0);
    expect(await deliveryQueue.getJob(head.id)).toBeUndefined();

    const second = await send(app, source.token, 81_001);
    const other = await send(app, source.token, 81_002);
    await waitFor(async () => (await deliveriesOf(app, second))[0]?.status === 'held');
    // Another conversation is not held back.
    await waitFor(() => sink.requests.length === 2);
    expect(sink.requests[1].headers['webhook-id']).toBe(other);

    await waitFor(async () => (await deliveriesOf(app, second))[0]?.status === 'succeeded');
    expect(sink.requests.map((request) => request.headers['webhook-id'])).toEqual([
      first,
      other,
      second,
    ]);
    expect(await deliveriesOf(app, first)).toMatchObject([
      { status: 'succeeded', attemptCount: 1 },
    ]);
  });

  it('hands an event to its fan-out job when more deliveries than FIRST_ATTEMPTS_IN_FLIGHT would be in flight', async () => {
    const capped = await startTestApp({ FIRST_ATTEMPTS_IN_FLIGHT: '1' });
    try {
      const cappedSource = (
        await capped.admin('POST', '/api/sources', { name: 'capped', kind: 'chatwoot' })
      ).body;
      await subscribe(capped, 'one');
      await subscribe(capped, 'two');
      const eventId = await send(capped, cappedSource.token);
      await waitFor(() => sink.requests.length === 2);
      await capped.drainQueues();
      const deliveries = await deliveriesOf(capped, eventId);
      const first = [...deliveries].sort((a, b) => a.id.localeCompare(b.id))[0];
      const cappedQueue = capped.running.context.get<Queue>(getQueueToken(DELIVERY_QUEUE));
      expect(await cappedQueue.getJobState(fanOutJobId(eventId, first.id))).toBe('completed');
      for (const delivery of deliveries) expect(delivery.status).toBe('succeeded');
    } finally {
      await capped.close();
    }
  });
});

describe('a worker killed after the event committed, before its first attempts were recorded', () => {
  const sink = new HttpSink();
  // A database of its own: to a sweep every second, other specs' pending deliveries would look
  // stranded.
  const databaseName = `wr_first_attempts_${randomBytes(4).toString('hex')}`;
  const databaseUrl = Object.assign(new URL(TEST_DATABASE_URL), { pathname: `/${databaseName}` });
  const server = new Client({ connectionString: TEST_DATABASE_URL });
  const db = new Client({ connectionString: databaseUrl.href });
  const running: RouterProcess[] = [];
  let env: Record<string, string>;
  let baseUrl: string;

  beforeAll(async () => {
    buildProject();
    await sink.start();
    await server.connect();
    await server.query(`CREATE DATABASE ${databaseName}`);
    await db.connect();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    env = testEnvironment('first', port, {
      DATABASE_URL: databaseUrl.href,
      RETENTION_INTERVAL_MINUTES: '0',
      FIRST_ATTEMPT_SWEEP_INTERVAL_SECONDS: '1',
    });
  }, 120_000);

  afterAll(async () => {
    for (const child of running) await child.stop('SIGKILL');
    await sink.stop();
    await db.end();
    await server.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await server.end();
  });

  function router(role: 'api' | 'worker'): RouterProcess {
    const child = new RouterProcess({ ...env, APP_ROLE: role });
    running.push(child);
    return child;
  }

  it('still delivers: the first-attempt sweep queues it once its send must have ended', async () => {
    // The receiver never answers the first request of each subscription: the worker is killed
    // with them in flight.
    sink.answerWith((request) =>
      sink.requests.find((first) => first.path === request.path) === request
        ? { status: 200, body: 'never seen', delayMs: 60_000 }
        : { status: 200, body: 'ok' },
    );
    const api = router('api');
    const worker = router('worker');
    // One after the other: both would migrate the new database at once otherwise.
    await api.start(/API listening on/);
    await worker.start(/Worker started/);
    const admin = new AdminClient(baseUrl, TEST_ADMIN_KEY);
    const source = await admin.request('POST', '/api/sources', { kind: 'chatwoot', name: 'kill' });
    const timeoutMs = 1_000;
    const subscription = await admin.request('POST', '/api/subscriptions', {
      name: 'killed mid-send',
      url: `${sink.url}/kill`,
      eventTypes: ['*'],
      sourceIds: [source.body.id],
      timeoutMs,
    });
    expect(subscription.status).toBe(201);
    // An ordered one too: its delivery, the head of a new conversation, is sent the same way.
    const ordered = await admin.request('POST', '/api/subscriptions', {
      name: 'killed mid-send, ordered',
      url: `${sink.url}/kill-ordered`,
      eventTypes: ['*'],
      sourceIds: [source.body.id],
      timeoutMs,
      ordering: 'conversation',
    });
    expect(ordered.status).toBe(201);
    const answer = await fetch(`${baseUrl}/webhooks/chatwoot/${source.body.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: uniqueMessage(),
    });
    expect(answer.status).toBe(200);
    const { eventId } = (await answer.json()) as { eventId: string };
    await waitFor(() => sink.requests.length === 2, 20_000);

    // Its ingest job is done, so no retried ingest job will queue the delivery again.
    const ingest = new Queue(INGEST_QUEUE, {
      connection: redisOptionsFromUrl(TEST_REDIS_URL),
      prefix: env.QUEUE_PREFIX,
    });
    try {
      await waitFor(async () => (await ingest.getJobState(eventId)) === 'completed', 5_000);
    } finally {
      await ingest.close();
    }
    const killedAt = Date.now();
    await worker.stop('SIGKILL');
    const deliveriesOf = async () =>
      (
        await db.query<{ lane: boolean; status: string; attempt_count: number; run: number }>(
          `SELECT lane_key IS NOT NULL AS lane, status, attempt_count, run FROM deliveries
            WHERE event_id = $1 ORDER BY lane`,
          [eventId],
        )
      ).rows;
    expect(await deliveriesOf()).toEqual([
      { lane: false, status: 'pending', attempt_count: 0, run: 0 },
      { lane: true, status: 'pending', attempt_count: 0, run: 0 },
    ]);

    const replacement = router('worker');
    await replacement.start(/Worker started/);
    await waitFor(
      async () => (await deliveriesOf()).every((delivery) => delivery.status === 'succeeded'),
      60_000,
    );
    const sweptAfterMs = Date.now() - killedAt;
    // Not before the killed send had to end (its timeout, the transform's, the margin)...
    const mustWaitMs = timeoutMs + testSettings().TRANSFORM_TIMEOUT_MS + FIRST_ATTEMPT_MARGIN_MS;
    expect(sweptAfterMs).toBeGreaterThanOrEqual(mustWaitMs - 2_000);
    // ...and soon after: the sweep runs every second here (the ordered head's too, sooner than
    // the lane sweep's 30 s would reach it).
    expect(sweptAfterMs).toBeLessThan(mustWaitMs + 12_000);
    expect(await deliveriesOf()).toEqual([
      { lane: false, status: 'succeeded', attempt_count: 1, run: 1 },
      { lane: true, status: 'succeeded', attempt_count: 1, run: 1 },
    ]);
    expect(sink.requests).toHaveLength(4);
    expect(sink.requests.slice(2).map((request) => request.headers['webhook-id'])).toEqual([
      eventId,
      eventId,
    ]);
    await replacement.stop('SIGTERM');
    await api.stop('SIGTERM');
  }, 120_000);
});
