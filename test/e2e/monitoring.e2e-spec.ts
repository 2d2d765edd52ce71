import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { freePort } from '../support/processes';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { TEST_ADMIN_KEY } from '../support/test-settings';
import { waitFor } from '../support/wait-for';

const METRIC_NAMES = [
  'webhook_router_events_received_total',
  'webhook_router_events_routed_total',
  'webhook_router_ingest_duration_seconds',
  'webhook_router_deliveries_total',
  'webhook_router_delivery_attempt_duration_seconds',
  'webhook_router_dead_deliveries_total',
  'webhook_router_queue_jobs',
  'process_cpu_user_seconds_total',
];

/** The value of one sample in Prometheus text, 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

const basic = (password: string) => `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;

describe('monitoring: health, metrics, queues, dashboard', () => {
  let app: TestApp;
  let source: { id: string; token: string };
  const sink = new HttpSink();

  beforeAll(async () => {
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    await sink.start();
    source = (await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'Acme' })).body;
  });

  afterAll(async () => {
    await app?.drainQueues().catch(() => undefined);
    await app?.close();
    await sink.stop();
  });

  const get = (path: string, authorization?: string) =>
    fetch(`${app.url}${path}`, { headers: authorization ? { authorization } : {} });

  describe('health', () => {
    it('answers /health/live without an admin key', async () => {
      const response = await get('/health/live');
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toContain('no-store');
      expect(await response.json()).toMatchObject({ status: 'ok' });
    });

    it('answers /health/ready with Postgres and Redis up, without an admin key', async () => {
      const response = await get('/health/ready');
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        status: 'ok',
        details: {
          database: expect.objectContaining({ status: 'up' }),
          redis: expect.objectContaining({ status: 'up' }),
        },
      });
    });
  });

  describe('/metrics', () => {
    it('answers Prometheus text without an admin key', async () => {
      const response = await get('/metrics');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await response.text();
      for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
      expect(text).toContain('webhook_router_queue_jobs{queue="ingest",state="waiting"}');
      expect(text).toContain('webhook_router_queue_jobs{queue="delivery",state="delayed"}');
    });

    it('counts a webhook received, its event routed and its delivery', async () => {
      const subscription = await app.admin('POST', '/api/subscriptions', {
        name: 'CRM',
        url: `${sink.url}/hook`,
        eventTypes: ['message.created'],
      });
      expect(subscription.status).toBe(201);
      const before = await (await get('/metrics')).text();

      const payload = JSON.parse(fixtureText('chatwoot', 'message_created.json'));
      payload.id = 990_001;
      const response = await app.post(
        `/webhooks/chatwoot/${source.token}`,
        JSON.stringify(payload),
      );
      expect(response.status).toBe(200);
      await waitFor(() => sink.requests.length >= 1, 20_000);
      await app.drainQueues();

      const after = await (await get('/metrics')).text();
      const delta = (series: string) => sample(after, series) - sample(before, series);
      expect(delta('webhook_router_events_received_total{source_kind="chatwoot"}')).toBe(1);
      expect(
        delta(
          'webhook_router_ingest_duration_seconds_count{source_kind="chatwoot",status_code="200"}',
        ),
      ).toBe(1);
      expect(
        delta(
          'webhook_router_events_routed_total{source_kind="chatwoot",type="message.created",status="routed"}',
        ),
      ).toBe(1);
      expect(delta('webhook_router_deliveries_total{outcome="succeeded"}')).toBe(1);
      expect(delta('webhook_router_delivery_attempt_duration_seconds_count')).toBe(1);
      expect(delta('webhook_router_first_attempts_total{by="ingest"}')).toBe(1);
      expect(delta('webhook_router_first_attempts_total{by="fanout"}')).toBe(0);
    });

    it('times a refused webhook under its status code', async () => {
      const before = await (await get('/metrics')).text();
      const response = await app.post('/webhooks/chatwoot/not-a-token', '{}');
      expect(response.status).toBe(404);
      const after = await (await get('/metrics')).text();
      const series =
        'webhook_router_ingest_duration_seconds_count{source_kind="chatwoot",status_code="404"}';
      expect(sample(after, series) - sample(before, series)).toBe(1);
    });

    it('labels a kind no plug-in has as unknown, never as the URL segment sent', async () => {
      const before = await (await get('/metrics')).text();
      const response = await app.post('/webhooks/%3Cscript%3E/not-a-token', '{}');
      expect(response.status).toBe(404);
      const after = await (await get('/metrics')).text();
      const series =
        'webhook_router_ingest_duration_seconds_count{source_kind="unknown",status_code="404"}';
      expect(sample(after, series) - sample(before, series)).toBe(1);
      expect(after).not.toContain('<script>');
      expect(after).not.toContain('%3Cscript');
    });
  });

  describe('GET /api/queues', () => {
    it('needs the admin key', async () => {
      expect((await get('/api/queues')).status).toBe(401);
      expect((await get('/api/queues', 'Bearer wrong-key-0123456789')).status).toBe(401);
    });

    it('returns the counts of every queue by state', async () => {
      const { status, body } = await app.admin('GET', '/api/queues');
      expect(status).toBe(200);
      const counts = {
        waiting: expect.any(Number),
        active: expect.any(Number),
        delayed: expect.any(Number),
        failed: expect.any(Number),
        completed: expect.any(Number),
        paused: expect.any(Number),
        prioritized: expect.any(Number),
      };
      expect(body).toEqual({
        queues: [
          { name: 'ingest', counts },
          { name: 'delivery', counts },
          { name: 'actions', counts },
        ],
      });
    });
  });

  describe('the queue dashboard at /admin/queues', () => {
    it('answers 401 with a Basic challenge without the key, however the path is spelled', async () => {
      for (const path of [
        '/admin/queues',
        '/%61dmin/queues',
        '/admin/%71ueues',
        '/admin/queues/api/queues',
      ]) {
        const response = await get(path);
        expect({ path, status: response.status }).toEqual({ path, status: 401 });
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="webhook-router"/);
      }
      expect((await get('/admin/queues', 'Bearer wrong-key-0123456789')).status).toBe(401);
      expect((await get('/admin/queues', basic('wrong-key-0123456789'))).status).toBe(401);
    });

    it('serves the dashboard with the key as Bearer or as the Basic password', async () => {
      for (const authorization of [`Bearer ${TEST_ADMIN_KEY}`, basic(TEST_ADMIN_KEY)]) {
        const response = await get('/admin/queues', authorization);
        expect(response.status).toBe(200);
        expect(response.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await response.text()).toContain('webhook-router');
      }
    });

    it("shows the app's queues, under its queue prefix", async () => {
      const response = await get('/admin/queues/api/queues', basic(TEST_ADMIN_KEY));
      expect(response.status).toBe(200);
      const body = (await response.json()) as { queues: { name: string; readOnlyMode: boolean }[] };
      expect(body.queues.map(({ name, readOnlyMode }) => ({ name, readOnlyMode }))).toEqual(
        expect.arrayContaining([
          { name: 'ingest', readOnlyMode: true },
          { name: 'delivery', readOnlyMode: true },
          { name: 'actions', readOnlyMode: true },
        ]),
      );
    });
  });

  describe('the worker role', () => {
    let worker: TestApp;
    let base: string;

    beforeAll(async () => {
      const port = await freePort();
      worker = await startTestApp({ APP_ROLE: 'worker', WORKER_HEALTH_PORT: String(port) });
      base = `http://127.0.0.1:${port}`;
    });

    afterAll(async () => {
      await worker?.close();
    });

    it('serves no API', () => {
      expect(worker.running.url).toBeNull();
    });

    it('answers health and metrics on WORKER_HEALTH_PORT, without an admin key', async () => {
      const live = await fetch(`${base}/health/live`);
      expect(live.status).toBe(200);
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ok',
        details: { database: { status: 'up' }, redis: { status: 'up' } },
      });
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await metrics.text();
      expect(text).toContain('# TYPE webhook_router_events_routed_total counter');
      expect(text).toContain('webhook_router_queue_jobs{queue="delivery",state="waiting"} 0');
    });

    it('answers nothing else there', async () => {
      expect((await fetch(`${base}/api/queues`)).status).toBe(404);
      expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    });
  });
});
