import { Client } from 'pg';
import { AdminClient } from '../support/admin-client';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { buildProject, freePort, isRunning, RouterProcess } from '../support/processes';
import { TEST_ADMIN_KEY, TEST_DATABASE_URL, testEnvironment } from '../support/test-settings';
import { waitFor } from '../support/wait-for';

const SHUTDOWN_TIMEOUT_MS = 10_000;

describe('graceful shutdown (SIGTERM on node dist/main.js)', () => {
  const sink = new HttpSink();
  const db = new Client({ connectionString: TEST_DATABASE_URL });
  let baseUrl: string;
  let admin: AdminClient;
  let env: Record<string, string>;
  const running: RouterProcess[] = [];

  function router(role: 'all' | 'api' | 'worker'): RouterProcess {
    const child = new RouterProcess({ ...env, APP_ROLE: role });
    running.push(child);
    return child;
  }

  beforeAll(async () => {
    buildProject();
    await sink.start();
    await db.connect();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    admin = new AdminClient(baseUrl, TEST_ADMIN_KEY);
    env = testEnvironment('shut', port, {
      DEDUPE_WINDOW_SECONDS: '0',
      RETENTION_INTERVAL_MINUTES: '0',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      DELIVERY_RETRY_SCHEDULE: '0.05,0.05',
    });
  }, 120_000);

  afterAll(async () => {
    for (const child of running) await child.stop('SIGKILL');
    await sink.stop();
    await db.end();
  });

  async function storedEventIds(ids: string[]): Promise<Set<string>> {
    const { rows } = await db.query<{ id: string }>('SELECT id FROM events WHERE id = ANY($1)', [
      ids,
    ]);
    return new Set(rows.map((row) => row.id));
  }

  it('answers what is in flight, refuses the rest, loses nothing acknowledged and exits 0', async () => {
    const app = router('all');
    await app.start(/API and worker listening on/);
    const source = await admin.request('POST', '/api/sources', {
      kind: 'chatwoot',
      name: 'shutdown',
    });
    expect(source.status).toBe(201);
    const webhookUrl = `${baseUrl}/webhooks/chatwoot/${source.body.token}`;
    const body = fixtureText('chatwoot', 'message_created.json');

    type Outcome = { status: number; eventId?: string } | { refused: string };
    const outcomes: Promise<Outcome>[] = [];
    const send = (): Promise<Outcome> =>
      fetch(webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
        .then(async (response) => ({
          status: response.status,
          eventId: ((await response.json()) as { eventId?: string }).eventId,
        }))
        .catch((error: { cause?: { code?: string } }) => ({
          refused: error.cause?.code ?? String(error),
        }));

    // Bursts of concurrent webhooks, with SIGTERM landing in the middle of them.
    let firing = true;
    const burst = (async () => {
      while (firing) {
        for (let i = 0; i < 20; i++) outcomes.push(send());
        await new Promise((done) => setTimeout(done, 5));
      }
    })();
    await waitFor(() => outcomes.length >= 200, 10_000);
    const signalledAt = Date.now();
    const exit = await app.stop('SIGTERM');
    const exitedAfterMs = Date.now() - signalledAt;
    firing = false;
    await burst;
    const results = await Promise.all(outcomes);

    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitedAfterMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    const accepted = results.filter(
      (result): result is { status: number; eventId: string } =>
        'status' in result && result.status === 200,
    );
    const others = results.filter((result) => !('status' in result) || result.status !== 200);
    expect(accepted.length).toBeGreaterThan(0);
    expect(others.length).toBeGreaterThan(0);
    for (const other of others) {
      if ('status' in other) expect(other.status).toBe(503);
      else expect(other.refused).toMatch(/ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET/);
    }
    const late = await send();
    expect(late).toEqual({ refused: 'ECONNREFUSED' });

    // A fresh worker drains what was queued: every acknowledged webhook is stored.
    const worker = router('worker');
    await worker.start(/Worker started/);
    const ids = accepted.map((result) => result.eventId);
    expect(new Set(ids).size).toBe(ids.length);
    await waitFor(async () => (await storedEventIds(ids)).size === ids.length, 30_000);
    expect(await worker.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 120_000);

  it('lets a worker finish and record the delivery attempt in flight before it exits, its transform sandbox with it', async () => {
    sink.respondWith([], { status: 200, body: 'slow ok', delayMs: 1000 });
    const api = router('api');
    const worker = router('worker');
    await Promise.all([api.start(/API listening on/), worker.start(/Worker started/)]);
    const source = await admin.request('POST', '/api/sources', {
      kind: 'chatwoot',
      name: 'slow sink',
    });
    const subscription = await admin.request('POST', '/api/subscriptions', {
      name: 'slow sink',
      url: `${sink.url}/slow`,
      eventTypes: ['*'],
      sourceIds: [source.body.id],
      transform: '{ "text": message.text }',
    });
    expect(subscription.status).toBe(201);
    const before = sink.requests.length;
    const answer = await fetch(`${baseUrl}/webhooks/chatwoot/${source.body.token}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: fixtureText('chatwoot', 'message_created.json'),
    });
    expect(answer.status).toBe(200);
    const { eventId } = (await answer.json()) as { eventId: string };
    // The sink has the request and holds its answer for a second: the attempt is in flight.
    await waitFor(() => sink.requests.length > before, 20_000);
    const sandboxes = worker.childPids();
    expect(sandboxes).toHaveLength(1);

    const signalledAt = Date.now();
    const exit = await worker.stop('SIGTERM');
    const exitedAfterMs = Date.now() - signalledAt;
    expect(exit).toEqual({ code: 0, signal: null });
    // It waited for the sink's answer (held a second) rather than dropping the attempt.
    expect(exitedAfterMs).toBeGreaterThanOrEqual(500);
    expect(exitedAfterMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);

    const { rows } = await db.query<{ status: string; status_code: number; succeeded: boolean }>(
      `SELECT d.status, a.status_code, a.succeeded
       FROM deliveries d JOIN delivery_attempts a ON a.delivery_id = d.id
       WHERE d.event_id = $1 AND d.subscription_id = $2`,
      // Its own subscription's: a spec running beside this one on the shared test database may
      // have a subscription to every event of every source.
      [eventId, subscription.body.id],
    );
    expect(rows).toEqual([{ status: 'succeeded', status_code: 200, succeeded: true }]);
    expect(sandboxes.filter(isRunning)).toEqual([]);
    await api.stop('SIGTERM');
  }, 120_000);
});
