import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { acceptKeys } from '../../src/queues/accept-clock';
import { INGEST_QUEUE } from '../../src/queues/queue-names';
import { fixtureText } from '../support/fixtures';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/**
 * Webhooks arriving together share their Redis calls (one accept script per event-loop turn):
 * each must still be answered as if it came alone.
 */
describe('ingest under concurrency (real Redis and Postgres)', () => {
  let app: TestApp;
  let ingest: Queue;
  let redis: Redis;

  beforeAll(async () => {
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    ingest = app.running.context.get<Queue>(getQueueToken(INGEST_QUEUE));
    redis = new Redis(app.settings.REDIS_URL);
  });

  afterAll(async () => {
    await redis?.quit();
    await app?.close();
  });

  async function chatwootSource(): Promise<{ id: string; token: string }> {
    const created = await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'test' });
    expect(created.status).toBe(201);
    return created.body;
  }

  const body = fixtureText('chatwoot', 'message_created.json');
  const send = (token: string, deliveryId: string) =>
    app.post(`/webhooks/chatwoot/${token}`, body, {
      'content-type': 'application/json',
      'X-Chatwoot-Delivery': deliveryId,
    });

  it('answers duplicates sent together with the first one’s id, and stores each webhook once', async () => {
    const source = await chatwootSource();
    const deliveryIds = [
      ...Array.from({ length: 10 }, () => 'dup-a'),
      ...Array.from({ length: 10 }, () => 'dup-b'),
      ...Array.from({ length: 20 }, (_, index) => `unique-${index}`),
    ];
    const responses = await Promise.all(deliveryIds.map((id) => send(source.token, id)));
    expect(responses.map((response) => response.status)).toEqual(deliveryIds.map(() => 200));
    const eventIds = await Promise.all(
      responses.map(async (response) => ((await response.json()) as { eventId: string }).eventId),
    );
    const answered = new Map<string, Set<string>>();
    deliveryIds.forEach((deliveryId, index) => {
      answered.set(deliveryId, (answered.get(deliveryId) ?? new Set()).add(eventIds[index]));
    });
    expect([...answered.values()].every((ids) => ids.size === 1)).toBe(true);
    expect(new Set(eventIds).size).toBe(22);

    // Each answered id is a job in Redis, with the accept time as its timestamp.
    const jobs = await Promise.all([...new Set(eventIds)].map((id) => ingest.getJob(id)));
    expect(jobs.every((job) => job !== undefined && job.timestamp > 0)).toBe(true);
    await app.drainQueues();
    await waitFor(async () => {
      const events = (await app.admin('GET', `/api/events?sourceId=${source.id}`)).body;
      return events.data.length === 22;
    });
    expect(await redis.zcard(acceptKeys(ingest).accepting)).toBe(0);
  });

  it('answers 503 to every webhook of a turn whose accept time Redis refuses, and queues none', async () => {
    const source = await chatwootSource();
    const { clock } = acceptKeys(ingest);
    const kept = await redis.get(clock);
    await redis.del(clock);
    // A clock key Redis cannot read as a number: the accept script fails with an error reply.
    await redis.hset(clock, 'broken', '1');
    try {
      const deliveryIds = Array.from({ length: 15 }, (_, index) => `refused-${index}`);
      const responses = await Promise.all(deliveryIds.map((id) => send(source.token, id)));
      expect(responses.map((response) => response.status)).toEqual(deliveryIds.map(() => 503));
      const answers = await Promise.all(responses.map((response) => response.json()));
      expect(answers.every((answer: any) => answer.error === 'queue_unavailable')).toBe(true);
    } finally {
      await redis.del(clock);
      if (kept !== null) await redis.set(clock, kept);
    }
    expect(await ingest.getJobCounts('waiting', 'active', 'delayed', 'completed')).toEqual(
      expect.objectContaining({ waiting: 0, active: 0, delayed: 0 }),
    );
    const events = (await app.admin('GET', `/api/events?sourceId=${source.id}`)).body;
    expect(events.data).toHaveLength(0);

    // The next webhooks are accepted again.
    const again = await send(source.token, 'after-the-failure');
    expect(again.status).toBe(200);
    await app.drainQueues();
  });
});
