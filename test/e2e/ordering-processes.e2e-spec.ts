import { Client } from 'pg';
import { AdminClient } from '../support/admin-client';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { acceptOrderFromDatabase, checkOrdering } from '../support/ordering-check';
import { buildProject, freePort, RouterProcess } from '../support/processes';
import { TEST_ADMIN_KEY, TEST_DATABASE_URL, testEnvironment } from '../support/test-settings';
import { waitFor } from '../support/wait-for';

const CONVERSATIONS = 200;
const EVENTS_PER_CONVERSATION = 20;
const FAILURE_RATE = 0.2;
const MAX_SINK_DELAY_MS = 25;

/**
 * Issue 14's acceptance run: 200 conversations × 20 events through an API and two worker
 * processes, to a sink that answers 500 one time in five and answers late at random. For every
 * conversation the sink's first successful receipts come in ingest order, and all arrive.
 */
describe('ordered delivery across two worker processes', () => {
  /** Event ids in the order the sink first answered each 2xx; and every 2xx, to count repeats. */
  const firstAccepted: string[] = [];
  const acceptedTimes = new Map<string, number>();
  let requests = 0;
  const sink = new HttpSink({
    keepRequests: false,
    onAnswered: (request, reply) => {
      if (reply.status >= 300) return;
      const id = String(request.headers['webhook-id']);
      const times = (acceptedTimes.get(id) ?? 0) + 1;
      acceptedTimes.set(id, times);
      if (times === 1) firstAccepted.push(id);
    },
  }).answerWith(() => {
    requests += 1;
    return {
      status: Math.random() < FAILURE_RATE ? 500 : 200,
      delayMs: Math.floor(Math.random() * MAX_SINK_DELAY_MS),
    };
  });
  const processes: RouterProcess[] = [];
  let baseUrl: string;
  let admin: AdminClient;
  let database: Client;

  beforeAll(async () => {
    buildProject();
    await sink.start();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    admin = new AdminClient(baseUrl, TEST_ADMIN_KEY);
    const env = testEnvironment('ord', port, {
      DELIVERY_RETRY_SCHEDULE: '0.05,0.05,0.1,0.2,0.5,1,1,1,1,1',
    });
    const api = new RouterProcess({ ...env, APP_ROLE: 'api', LOG_LEVEL: 'info' });
    await api.start(/API listening on/, 60_000);
    processes.push(api);
    for (const name of ['worker 1', 'worker 2']) {
      const worker = new RouterProcess({ ...env, APP_ROLE: 'worker', LOG_LEVEL: 'info' }, { name });
      await worker.start(/Worker started/, 60_000);
      processes.push(worker);
    }
    database = new Client({ connectionString: TEST_DATABASE_URL });
    await database.connect();
  }, 180_000);

  afterAll(async () => {
    await Promise.all(processes.map((process) => process.stop()));
    await database?.end();
    await sink.stop();
  });

  it('keeps every conversation in ingest order at the sink, delivers everything, repeats only what went unrecorded', async () => {
    const source = await admin.expectOk('POST', '/api/sources', {
      kind: 'chatwoot',
      name: 'ordered load',
    });
    const subscription = await admin.expectOk('POST', '/api/subscriptions', {
      name: 'ordered sink',
      url: `${sink.url}/ordered`,
      eventTypes: ['message.created'],
      sourceIds: [source.id],
      ordering: 'conversation',
      disableAfterDeadDeliveries: 0,
    });
    const template = JSON.parse(fixtureText('chatwoot', 'message_created.json'));
    const webhookUrl = `${baseUrl}/webhooks/chatwoot/${source.token}`;

    // Each conversation's webhooks one after the other (each answered before the next is sent:
    // that is the ingest order); the conversations all at once.
    const ingestOrder = new Map<string, string[]>();
    await Promise.all(
      Array.from({ length: CONVERSATIONS }, async (_, conversation) => {
        const ids: string[] = [];
        for (let sequence = 1; sequence <= EVENTS_PER_CONVERSATION; sequence++) {
          const payload = {
            ...template,
            id: 3_000_000 + conversation * 100 + sequence,
            content: `conversation ${conversation} message ${sequence}`,
            conversation: {
              ...template.conversation,
              id: 80_000 + conversation,
              display_id: 80_000 + conversation,
            },
          };
          // A 503 (Redis slower than the enqueue budget on a loaded machine) is not an accept:
          // the sender sends the same body again, as the API's contract asks.
          let response: Response;
          for (let attempt = 1; ; attempt++) {
            response = await fetch(webhookUrl, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(payload),
            });
            if (response.status !== 503 || attempt === 5) break;
            await response.arrayBuffer();
          }
          expect(response.status).toBe(200);
          ids.push(((await response.json()) as { eventId: string }).eventId);
        }
        ingestOrder.set(String(conversation), ids);
      }),
    );
    const allIds = [...ingestOrder.values()].flat();
    expect(allIds).toHaveLength(CONVERSATIONS * EVENTS_PER_CONVERSATION);

    await waitFor(
      async () => {
        const [{ open }] = (
          await database.query(
            `SELECT count(*)::int AS open FROM deliveries
              WHERE subscription_id = $1 AND status NOT IN ('succeeded', 'dead')`,
            [subscription.id],
          )
        ).rows;
        const [{ stored }] = (
          await database.query(
            `SELECT count(*)::int AS stored FROM events WHERE id = ANY($1::text[])`,
            [allIds],
          )
        ).rows;
        return stored === allIds.length && open === 0;
      },
      240_000,
      500,
    ).catch(async (error: unknown) => {
      // The sweeps are off here: what is left unfinished shows which path stranded it.
      const { rows } = await database.query(
        `SELECT d.id, d.event_id, d.status, d.run, d.attempt_count, d.lane_key, d.lane_at,
                d.updated_at, d.next_attempt_at,
                (SELECT count(*)::int FROM deliveries o
                  WHERE o.subscription_id = d.subscription_id AND o.lane_key = d.lane_key
                    AND o.status NOT IN ('succeeded', 'dead')) AS unfinished_in_lane
           FROM deliveries d
          WHERE d.subscription_id = $1 AND d.status NOT IN ('succeeded', 'dead')
          ORDER BY d.lane_key, d.lane_at LIMIT 20`,
        [subscription.id],
      );
      process.stdout.write(`ordered e2e, unfinished: ${JSON.stringify(rows)}\n`);
      throw error;
    });

    // The router's accept order is the ingest order: each webhook was answered before the next.
    const acceptOrder = await acceptOrderFromDatabase(
      (sql, parameters) => database.query(sql, parameters),
      allIds,
    );
    expect([...acceptOrder.values()].sort()).toEqual([...ingestOrder.values()].sort());

    const report = checkOrdering(ingestOrder, firstAccepted);
    const duplicates = [...acceptedTimes.values()].filter((times) => times > 1).length;
    // Attempts whose answer the router never saw: requests no attempt records (a job run twice),
    // and attempts recorded without a status (timed out: this busy test process may answer a
    // request after the router gave up on it). Only these may have been accepted twice.
    const [{ attempts, unanswered }] = (
      await database.query(
        `SELECT count(*)::int AS attempts,
                count(*) FILTER (WHERE a.status_code IS NULL)::int AS unanswered
           FROM delivery_attempts a
           JOIN deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = $1`,
        [subscription.id],
      )
    ).rows;
    const unrecorded = requests - attempts + unanswered;
    const { rows: statuses } = await database.query(
      `SELECT status, count(*)::int AS count FROM deliveries WHERE subscription_id = $1 GROUP BY status`,
      [subscription.id],
    );
    process.stdout.write(
      `ordered e2e: ${JSON.stringify({ ...report, examples: undefined, duplicates, unrecorded, requests, attempts, statuses })}\n`,
    );
    expect(report.examples).toEqual([]);
    expect(report).toMatchObject({
      conversations: CONVERSATIONS,
      expected: CONVERSATIONS * EVENTS_PER_CONVERSATION,
      missing: 0,
      reordered: 0,
    });
    expect(statuses).toEqual([{ status: 'succeeded', count: allIds.length }]);
    // Accepted twice only through attempts whose outcome went unrecorded, counted apart.
    expect(requests).toBeGreaterThanOrEqual(attempts);
    expect(duplicates).toBeLessThanOrEqual(unrecorded);
    // One in five attempts failed: the retries were real.
    expect(requests).toBeGreaterThan(allIds.length * 1.1);
  }, 300_000);
});
