import { getQueueToken } from '@nestjs/bullmq';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { createHmac } from 'node:crypto';
import {
  DeliveriesService,
  FIRST_ATTEMPT_MARGIN_MS,
  STRANDED_AFTER_MS,
} from '../../src/delivery/deliveries.service';
import { DeliveryProcessor } from '../../src/delivery/delivery.processor';
import { fanOutJobId } from '../../src/delivery/stranded-deliveries';
import { DELIVERY_SWEEP_SCHEDULER_ID } from '../../src/maintenance/maintenance.processor';
import { DELIVERY_QUEUE, INGEST_QUEUE, MAINTENANCE_QUEUE } from '../../src/queues/queue-names';
import { redisOptionsFromUrl } from '../../src/queues/redis-connection';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

describe('stranded deliveries: pending with no job left to attempt them', () => {
  let app: TestApp;
  let source: { id: string; token: string };
  let deliveryQueue: Queue;
  let maintenanceQueue: Queue;
  let messageNumber = 0;
  const sink = new HttpSink();

  beforeAll(async () => {
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    await sink.start();
    deliveryQueue = app.running.context.get<Queue>(getQueueToken(DELIVERY_QUEUE));
    maintenanceQueue = app.running.context.get<Queue>(getQueueToken(MAINTENANCE_QUEUE));
    source = (await app.admin('POST', '/api/sources', { name: 'cw', kind: 'chatwoot' })).body;
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  beforeEach(async () => {
    await resumeDeliveries();
    await app.clearSubscriptions();
    sink.requests.length = 0;
    sink.respondWith([]);
  });

  async function subscribe(extra: Record<string, unknown> = {}) {
    const created = await app.admin('POST', '/api/subscriptions', {
      name: 'CRM',
      url: `${sink.url}/hook`,
      eventTypes: ['message.created'],
      ...extra,
    });
    expect(created.status).toBe(201);
  }

  /** Posts a unique Chatwoot message; answers its one delivery once the worker has stored it. */
  async function sendMessage(): Promise<{ id: string; eventId: string }> {
    messageNumber += 1;
    const payload = JSON.parse(fixtureText('chatwoot', 'message_created.json'));
    payload.id = 700_000 + messageNumber;
    const response = await app.post(`/webhooks/chatwoot/${source.token}`, JSON.stringify(payload));
    expect(response.status).toBe(200);
    const { eventId } = (await response.json()) as { eventId: string };
    const [delivery] = await waitFor(async () => {
      const read = await app.admin('GET', `/api/events/${eventId}`);
      return read.status === 200 && read.body.deliveries.length === 1 && read.body.deliveries;
    });
    return { id: delivery.id, eventId };
  }

  const deliveryWorker = () => app.running.context.get(DeliveryProcessor).worker;

  /** Stops this app's delivery worker taking jobs, once the fetch it may be blocked in ends. */
  async function pauseDeliveries() {
    await deliveryWorker().pause();
    await waitFor(() => !deliveryWorker().isRunning(), 15_000);
  }

  async function resumeDeliveries() {
    deliveryWorker().resume();
  }

  /** What a worker crashing on it again and again leaves: its fan-out job failed for good. */
  async function failForGood(jobId: string) {
    const crashing = new Worker(DELIVERY_QUEUE, null, {
      connection: redisOptionsFromUrl(app.settings.REDIS_URL),
      prefix: app.settings.QUEUE_PREFIX,
    });
    try {
      const job = (await crashing.getNextJob('crash')) as Job;
      expect(job.id).toBe(jobId);
      await job.moveToFailed(
        new UnrecoverableError('job stalled more than allowable limit'),
        'crash',
      );
    } finally {
      await crashing.close();
    }
    expect(await deliveryQueue.getJobState(jobId)).toBe('failed');
  }

  /** A delivery left pending with no job: its fan-out job failed for good. */
  async function strandedDelivery() {
    await pauseDeliveries();
    const delivery = await sendMessage();
    await failForGood(fanOutJobId(delivery.eventId, delivery.id));
    await resumeDeliveries();
    return delivery;
  }

  async function deliveryOf(id: string) {
    return (await app.admin('GET', `/api/deliveries/${id}`)).body;
  }

  /** As if STRANDED_AFTER_MS had passed since the delivery last changed (and its retry was due). */
  async function age(id: string) {
    await app.dataSource.query(
      `UPDATE deliveries SET updated_at = updated_at - $2 * interval '1 millisecond',
              next_attempt_at = LEAST(next_attempt_at, updated_at - $2 * interval '1 millisecond')
        WHERE id = $1`,
      [id, STRANDED_AFTER_MS + 60_000],
    );
  }

  /** As if `ms` more had passed since the delivery last changed. */
  async function ageBy(id: string, ms: number) {
    await app.dataSource.query(
      `UPDATE deliveries SET updated_at = updated_at - $2 * interval '1 millisecond' WHERE id = $1`,
      [id, ms],
    );
  }

  /** One sweep, run as the scheduler runs it: a job on the maintenance queue. */
  async function sweep(): Promise<{ checked: number; requeued: number }> {
    const job = await maintenanceQueue.add('deliveries.sweep', {});
    await waitFor(async () => (await maintenanceQueue.getJobState(job.id!)) === 'completed');
    return (await Job.fromId(maintenanceQueue, job.id!))!.returnvalue;
  }

  it('sweeps a delivery whose fan-out job failed for good to the sink, once, however many sweepers run', async () => {
    await subscribe();
    const delivery = await strandedDelivery();
    expect(await deliveryOf(delivery.id)).toMatchObject({ status: 'pending', attemptCount: 0 });
    expect(await sweep()).toMatchObject({ requeued: 0 }); // not old enough: its job may be coming

    await age(delivery.id);
    const sweepers = app.running.context.get(DeliveriesService);
    const swept = await Promise.all([
      sweep(),
      sweepers.requeueStranded(),
      sweepers.requeueStranded(),
    ]);
    expect(swept.reduce((total, counts) => total + counts.requeued, 0)).toBe(1);

    await waitFor(async () => (await deliveryOf(delivery.id)).status === 'succeeded');
    await app.drainQueues();
    expect(sink.requests).toHaveLength(1);
    expect(sink.requests[0].headers['webhook-id']).toBe(delivery.eventId);
    expect(await sweep()).toMatchObject({ requeued: 0 });
  });

  it('sweeps a first attempt nobody recorded once a send of it must have ended, not before', async () => {
    const timeoutMs = 30_000;
    await subscribe({ timeoutMs });
    const delivery = await strandedDelivery();
    const sweeper = app.running.context.get(DeliveriesService);
    const sendEndsWithinMs =
      timeoutMs + app.settings.TRANSFORM_TIMEOUT_MS + FIRST_ATTEMPT_MARGIN_MS;
    await ageBy(delivery.id, sendEndsWithinMs - 5_000);
    expect(await sweeper.requeueStrandedFirstAttempts()).toMatchObject({ requeued: 0 });

    await ageBy(delivery.id, 10_000);
    const swept = await Promise.all([
      sweeper.requeueStrandedFirstAttempts(),
      sweeper.requeueStrandedFirstAttempts(),
    ]);
    expect(swept.reduce((total, counts) => total + counts.requeued, 0)).toBe(1);
    await waitFor(async () => (await deliveryOf(delivery.id)).status === 'succeeded');
    await app.drainQueues();
    expect(sink.requests).toHaveLength(1);
    expect(await sweeper.requeueStrandedFirstAttempts()).toMatchObject({ requeued: 0 });
  });

  it('sweeps a failed delivery whose retry job is gone, with the attempts it had left', async () => {
    await subscribe({ retryPolicy: { schedule: [3600] } });
    sink.respondWith([{ status: 500, body: 'down' }]);
    const delivery = await sendMessage();
    await waitFor(async () => (await deliveryOf(delivery.id)).status === 'failed');
    await age(delivery.id);
    expect(await sweep()).toMatchObject({ requeued: 0 }); // its retry job is delayed: held

    await deliveryQueue.remove(delivery.id);
    expect(await sweep()).toMatchObject({ requeued: 1 });
    await waitFor(async () => (await deliveryOf(delivery.id)).status === 'succeeded');
    expect(await deliveryOf(delivery.id)).toMatchObject({ attemptCount: 2 });
    expect(sink.requests).toHaveLength(2);
  });

  it('leaves alone a delivery whose job is waiting', async () => {
    await subscribe();
    await pauseDeliveries();
    const delivery = await sendMessage();
    await age(delivery.id);
    expect(await sweep()).toMatchObject({ requeued: 0 });
    await resumeDeliveries();
    await waitFor(async () => (await deliveryOf(delivery.id)).status === 'succeeded');
    await app.drainQueues();
    expect(sink.requests).toHaveLength(1);
  });

  it('retries a stranded delivery, and still refuses one that is queued', async () => {
    await subscribe();
    const stranded = await strandedDelivery();
    const retried = await app.admin('POST', `/api/deliveries/${stranded.id}/retry`);
    expect(retried.status).toBe(202);
    await waitFor(async () => (await deliveryOf(stranded.id)).status === 'succeeded');

    await pauseDeliveries();
    const queued = await sendMessage();
    const refused = await app.admin('POST', `/api/deliveries/${queued.id}/retry`);
    expect(refused.status).toBe(409);
    expect(refused.body.message).toBe(`Delivery ${queued.id} is already queued`);
    await resumeDeliveries();
    await app.drainQueues();
    expect(sink.requests).toHaveLength(2);
  });

  it('re-drives the stranded pending deliveries, not those still queued', async () => {
    await subscribe();
    await pauseDeliveries();
    const failed = await sendMessage();
    await failForGood(fanOutJobId(failed.eventId, failed.id));
    const removed = await sendMessage();
    await deliveryQueue.remove(fanOutJobId(removed.eventId, removed.id));
    const queued = await sendMessage();

    const redriven = await app.admin('POST', '/api/deliveries/retry', { status: 'pending' });
    expect(redriven).toMatchObject({ status: 202, body: { redriven: 2 } });
    await resumeDeliveries();
    for (const { id } of [removed, queued, failed]) {
      await waitFor(async () => (await deliveryOf(id)).status === 'succeeded');
    }
    await app.drainQueues();
    expect(sink.requests).toHaveLength(3);
  });

  it('runs an event again (its ingest job gone) without queuing a delivery a job still holds', async () => {
    const secret = 'Zx8vN2qLr5TmWc7Kp3HdYb9J';
    const signed = (
      await app.admin('POST', '/api/sources', {
        name: 'signed',
        kind: 'chatwoot',
        signingSecret: secret,
      })
    ).body;
    await subscribe({ name: 'first' });
    await subscribe({ name: 'second' });
    const body = fixtureText('chatwoot', 'message_created.outgoing_agent.json');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const headers = {
      'content-type': 'application/json',
      'X-Chatwoot-Timestamp': timestamp,
      'X-Chatwoot-Signature': `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`,
    };
    const sent = await app.post(`/webhooks/chatwoot/${signed.token}`, body, headers);
    const { eventId } = (await sent.json()) as { eventId: string };
    await waitFor(() => sink.requests.length === 2);

    // The second delivery retried while no worker takes jobs: its run-1 job is waiting.
    const [, second] = (await app.admin('GET', `/api/events/${eventId}`)).body.deliveries;
    await pauseDeliveries();
    expect((await app.admin('POST', `/api/deliveries/${second.id}/retry`)).status).toBe(202);

    // Replayed once its ingest job is gone: the event runs again and finds itself stored.
    const ingest = app.running.context.get<Queue>(getQueueToken(INGEST_QUEUE));
    await waitFor(async () => (await ingest.getJobState(eventId)) === 'completed');
    await ingest.remove(eventId);
    const replayed = await app.post(`/webhooks/chatwoot/${signed.token}`, body, headers);
    expect(((await replayed.json()) as { eventId: string }).eventId).toBe(eventId);
    await waitFor(async () => (await ingest.getJobState(eventId)) === 'completed');

    await resumeDeliveries();
    await app.drainQueues();
    expect(sink.requests).toHaveLength(3);
  });

  it('schedules the sweep on the maintenance queue', async () => {
    const scheduled = await startTestApp({
      DELIVERY_SWEEP_INTERVAL_MINUTES: '5',
      RETENTION_INTERVAL_MINUTES: '0',
    });
    try {
      const queue = scheduled.running.context.get<Queue>(getQueueToken(MAINTENANCE_QUEUE));
      expect(await queue.getJobScheduler(DELIVERY_SWEEP_SCHEDULER_ID)).toMatchObject({
        name: 'deliveries.sweep',
        every: 5 * 60_000,
      });
    } finally {
      await scheduled.close();
    }
  });
});
