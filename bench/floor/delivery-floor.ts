/**
 * The delivery floor: a BullMQ worker that takes each job the ingest floor queued and POSTs
 * its body to every target with undici, with no database and no signing.
 * Env: REDIS_URL, QUEUE_PREFIX, QUEUE_NAME, TARGET_URLS (comma-separated), CONCURRENCY.
 */
import { Job, Worker } from 'bullmq';
import { request } from 'undici';

interface FloorJob {
  eventId: string;
  rawBody: string;
}

async function post(url: string, job: FloorJob): Promise<void> {
  const response = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': job.eventId },
    body: job.rawBody,
  });
  await response.body.dump();
  if (response.statusCode >= 300) throw new Error(`${url} answered ${response.statusCode}`);
}

async function main(): Promise<void> {
  const targets = (process.env.TARGET_URLS ?? '').split(',').filter(Boolean);
  if (targets.length === 0) throw new Error('TARGET_URLS is required');
  const worker = new Worker(
    process.env.QUEUE_NAME ?? 'ingest',
    async (job: Job<FloorJob>) => {
      await Promise.all(targets.map((url) => post(url, job.data)));
    },
    {
      connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      prefix: process.env.QUEUE_PREFIX ?? 'floor',
      concurrency: Number(process.env.CONCURRENCY ?? 50),
      removeOnComplete: { age: 3600, count: 10_000 },
    },
  );
  await worker.waitUntilReady();

  const close = async () => {
    await worker.close();
    process.exit(0);
  };
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  console.log('floor ready');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
