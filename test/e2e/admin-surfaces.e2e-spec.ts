import { getQueueToken } from '@nestjs/bullmq';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { INGEST_QUEUE } from '../../src/queues/queue-names';
import { redisOptionsFromUrl } from '../../src/queues/redis-connection';
import { rawRequest } from '../support/raw-http';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { TEST_ADMIN_KEY } from '../support/test-settings';
import { waitFor } from '../support/wait-for';

/**
 * Every way a request target can spell an admin path, as a probe would send them: absolute
 * form, doubled slashes, percent-encoding, other letter cases, dot segments, trailing
 * delimiters. Each is sent on a raw socket, so no client rewrites it on the way.
 */
function spellings(path: string): string[] {
  const [first, ...rest] = path.slice(1).split('/');
  const tail = rest.join('/');
  const encodedFirst = `%${first.charCodeAt(0).toString(16)}${first.slice(1)}`;
  return [
    `http://x${path}`,
    `https://x${path}`,
    `HTTP://x${path}`,
    `http://user:pass@x:80${path}`,
    `http://x/${path}`,
    `http://x/${encodedFirst}/${tail}`,
    `/${path}`,
    `///${path.slice(1)}`,
    `/${encodedFirst}/${tail}`,
    `/${first}%2F${tail}`,
    `/${first}%2f${tail}`,
    `/${[first, ...rest].join('%2F')}`,
    path.toUpperCase(),
    `/${first.toUpperCase()}/${tail}`,
    `/${first}/x/../${tail}`,
    `/${first}/${rest[0]}/../${tail}`,
    `/./${first}/${tail}`,
    `${path};`,
    `${path};x=1`,
    `${path}?`,
    `${path}#`,
    `${path}/`,
    `${path}%3F`,
    `${path}%00`,
    `/%2e/${first}/${tail}`,
    `/${first}/%2e%2e/${first}/${tail}`,
  ];
}

describe('admin surfaces: no spelling of a request target reaches them without the key', () => {
  let app: TestApp;
  let ingest: Queue;
  let source: { token: string };

  beforeAll(async () => {
    // No worker: a webhook stays in the ingest queue, where the dashboard could touch it.
    app = await startTestApp({ APP_ROLE: 'api' });
    await resetDatabase(app.dataSource);
    ingest = app.running.context.get<Queue>(getQueueToken(INGEST_QUEUE));
    source = (await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'Acme' })).body;
    const webhook = await app.post(`/webhooks/chatwoot/${source.token}`, '{"event":"x","id":1}');
    expect(webhook.status).toBe(200);
  });

  afterAll(async () => {
    await app?.close();
  });

  const send = (method: string, target: string, headers: Record<string, string> = {}) =>
    rawRequest(app.url, {
      method,
      target,
      headers: { 'content-type': 'application/json', ...headers },
      body: method === 'GET' ? undefined : '{}',
    });

  const refused = async (method: string, paths: string[]) => {
    const answers: Record<string, number> = {};
    for (const path of paths) {
      for (const target of spellings(path)) {
        const response = await send(method, target);
        if (response.status < 400 || response.status >= 500) {
          answers[`${method} ${target}`] = response.status;
        }
      }
    }
    return answers;
  };

  it('the queue dashboard: no page, no queue data, however the target is spelled', async () => {
    expect(
      await refused('GET', [
        '/admin/queues',
        '/admin/queues/api/queues',
        '/admin/queues/api/redis/stats',
        '/admin/queues/queue/ingest',
      ]),
    ).toEqual({});
  });

  it('the queue dashboard: no pause, empty, add, obliterate, clean or retry', async () => {
    const before = await ingest.getJobCounts('waiting', 'paused');
    expect(before.waiting).toBe(1);
    expect(
      await refused('PUT', [
        '/admin/queues/api/queues/ingest/pause',
        '/admin/queues/api/queues/ingest/empty',
        '/admin/queues/api/queues/ingest/obliterate',
        '/admin/queues/api/queues/pause',
        '/admin/queues/api/queues/ingest/clean/waiting',
        '/admin/queues/api/queues/ingest/retry/failed',
      ]),
    ).toEqual({});
    expect(await refused('POST', ['/admin/queues/api/queues/ingest/add'])).toEqual({});
    expect(await ingest.isPaused()).toBe(false);
    expect(await ingest.getJobCounts('waiting', 'paused')).toEqual(before);
  });

  it('the admin API: no list, no change, however the target is spelled', async () => {
    expect(
      await refused('GET', [
        '/api/sources',
        '/api/subscriptions',
        '/api/events',
        '/api/deliveries',
        '/api/queues',
      ]),
    ).toEqual({});
    expect(await refused('POST', ['/api/sources', '/api/deliveries/retry'])).toEqual({});
    const { body } = await app.admin('GET', '/api/sources');
    expect(body.data).toHaveLength(1);
  });

  it('answers a request in absolute form with the key, as the router matched it', async () => {
    const authorization = `Bearer ${TEST_ADMIN_KEY}`;
    const dashboard = await send('GET', 'http://x/admin/queues/api/queues', { authorization });
    expect(dashboard.status).toBe(200);
    expect(JSON.parse(dashboard.body).queues.map((queue: { name: string }) => queue.name)).toEqual(
      expect.arrayContaining(['ingest', 'delivery']),
    );
    const sources = await send('GET', 'http://x/api/sources', { authorization });
    expect(sources.status).toBe(200);
    expect(JSON.parse(sources.body).data).toHaveLength(1);
  });

  it('keeps both queues read-only on the dashboard, even with the key', async () => {
    const authorization = `Bearer ${TEST_ADMIN_KEY}`;
    const before = await ingest.getJobCounts('waiting', 'paused');
    for (const [method, path] of [
      ['PUT', '/admin/queues/api/queues/ingest/pause'],
      ['PUT', '/admin/queues/api/queues/ingest/empty'],
      ['PUT', '/admin/queues/api/queues/ingest/obliterate'],
      ['POST', '/admin/queues/api/queues/ingest/add'],
      ['PUT', '/admin/queues/api/queues/delivery/pause'],
    ]) {
      const response = await send(method, path, { authorization });
      expect({ path, status: response.status }).toEqual({ path, status: 405 });
    }
    expect(await ingest.isPaused()).toBe(false);
    expect(await ingest.getJobCounts('waiting', 'paused')).toEqual(before);
  });

  it('retries failed ingest jobs through the admin API instead, each with its full budget', async () => {
    const failing = new Worker(
      INGEST_QUEUE,
      async () => {
        throw new UnrecoverableError('Postgres is down');
      },
      {
        connection: redisOptionsFromUrl(app.settings.REDIS_URL),
        prefix: app.settings.QUEUE_PREFIX,
      },
    );
    await waitFor(async () => (await ingest.getFailedCount()) === 1, 10_000);
    await failing.close();

    expect((await send('POST', '/api/queues/ingest/retry')).status).toBe(401);
    const retry = await app.admin('POST', '/api/queues/ingest/retry');
    expect(retry).toEqual({ status: 202, body: { retried: 1 } });
    expect(await ingest.getJobCounts('waiting', 'failed')).toMatchObject({ waiting: 1, failed: 0 });
    const [job] = await ingest.getWaiting();
    expect(job.attemptsMade).toBe(0);
    expect(await app.admin('POST', '/api/queues/ingest/retry')).toEqual({
      status: 202,
      body: { retried: 0 },
    });
  });
});
