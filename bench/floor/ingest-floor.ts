/**
 * The ingest floor: the least a durable webhook endpoint can do on this stack. Fastify parses
 * the JSON (keeping the raw text, as the router does), BullMQ stores it in Redis with the
 * router's job options, and the sender gets `{"result":"ok"}` once Redis acknowledged.
 * With JOB_OPTIONS=default it is the plain floor: one `add` with BullMQ's default job options
 * (no jobId, no retention settings), the least any BullMQ-backed endpoint does.
 * Env: PORT, REDIS_URL, QUEUE_PREFIX, QUEUE_NAME, JOB_OPTIONS (router | default).
 */
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { randomUUID } from 'node:crypto';

interface ParsedBody {
  raw: string;
  json: unknown;
}

async function main(): Promise<void> {
  const queue = new Queue(process.env.QUEUE_NAME ?? 'ingest', {
    connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
    prefix: process.env.QUEUE_PREFIX ?? 'floor',
  });
  await queue.waitUntilReady();

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, { raw: body as string, json: JSON.parse(body as string) });
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.get('/health', async () => ({ status: 'ok' }));
  const plain = process.env.JOB_OPTIONS === 'default';
  app.post('/webhooks/:kind/:token', async (request) => {
    const { raw } = request.body as ParsedBody;
    const eventId = randomUUID();
    if (plain) {
      await queue.add('webhook.received', {
        eventId,
        receivedAt: new Date().toISOString(),
        rawBody: raw,
      });
      return { result: 'ok' };
    }
    await queue.add(
      'webhook.received',
      { eventId, receivedAt: new Date().toISOString(), rawBody: raw },
      {
        jobId: eventId,
        attempts: 15,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: 3600, count: 10_000 },
        removeOnFail: { age: 30 * 24 * 3600 },
      },
    );
    return { result: 'ok' };
  });

  const close = async () => {
    await app.close();
    await queue.close();
    process.exit(0);
  };
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  await app.listen({ port: Number(process.env.PORT ?? 3100), host: '127.0.0.1' });
  console.log('floor ready');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
