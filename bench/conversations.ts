/**
 * Listing and lookup with 100,000 conversations (BENCH_ONLY=conversations): seeds conversations,
 * contacts and identities straight into Postgres, then times the admin API the way a console
 * uses it: the first page by last activity, a deep keyset page, lookups by email and by phone.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { freePort } from '../test/support/processes';
import { BenchContext } from './lib/context';
import { printTable, verdict, writeResults } from './lib/report';
import { RouterAdmin, startRouterApi } from './lib/router';
import { summarize } from './lib/stats';

const TARGET_MS = 50;
const WARMUP = 5;
const SAMPLES = 40;

async function seed(databaseUrl: string, count: number): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO contacts (id, name, email, phone_e164)
       SELECT 'ct_' || lpad(i::text, 26, '0'), 'Person ' || i, 'person-' || i || '@example.com',
              '+1408' || lpad(i::text, 7, '0')
         FROM generate_series(1, $1) AS i`,
      [count],
    );
    await client.query(
      `INSERT INTO contact_identities (id, contact_id, source_id, source_kind, external_id, name,
                                       email, email_normalized, phone, phone_e164)
       SELECT 'cti_' || lpad(i::text, 26, '0'), 'ct_' || lpad(i::text, 26, '0'),
              CASE WHEN i % 2 = 0 THEN 'src_bench_chatwoot' ELSE 'src_bench_jivo' END,
              CASE WHEN i % 2 = 0 THEN 'chatwoot' ELSE 'jivo' END, i::text, 'Person ' || i,
              'person-' || i || '@example.com', 'person-' || i || '@example.com',
              '(408) ' || lpad(i::text, 7, '0'), '+1408' || lpad(i::text, 7, '0')
         FROM generate_series(1, $1) AS i`,
      [count],
    );
    await client.query(
      `INSERT INTO conversations (id, key, source_id, source_kind, external_id, contact_id,
                                  contact_identity_id, contact_external_id, status,
                                  channel_type, channel, labels, started_at, first_activity_at,
                                  last_activity_at, messages_inbound, messages_outbound,
                                  last_message)
       SELECT 'conv_' || lpad(i::text, 26, '0'),
              CASE WHEN i % 2 = 0 THEN 'chatwoot:src_bench_chatwoot:' ELSE 'jivo:src_bench_jivo:' END || i,
              CASE WHEN i % 2 = 0 THEN 'src_bench_chatwoot' ELSE 'src_bench_jivo' END,
              CASE WHEN i % 2 = 0 THEN 'chatwoot' ELSE 'jivo' END, i::text,
              'ct_' || lpad(i::text, 26, '0'), 'cti_' || lpad(i::text, 26, '0'), i::text,
              (ARRAY['open', 'pending', 'resolved', 'resolved'])[1 + i % 4],
              CASE WHEN i % 2 = 0 THEN 'whatsapp' ELSE 'web_widget' END,
              jsonb_build_object('type', CASE WHEN i % 2 = 0 THEN 'whatsapp' ELSE 'web_widget' END),
              CASE WHEN i % 10 = 0 THEN ARRAY['vip'] ELSE '{}' END,
              now() - i * interval '61 seconds', now() - i * interval '61 seconds',
              now() - i * interval '60 seconds' + (i % 7) * interval '1 second', 3, 2,
              jsonb_build_object('externalId', 'm' || i, 'direction', 'inbound', 'text', 'Hello ' || i)
         FROM generate_series(1, $1) AS i`,
      [count],
    );
    await client.query('COMMIT');
    await client.query('ANALYZE contacts, contact_identities, conversations');
  } finally {
    await client.end();
  }
}

/** The cursor the API gives after the row at `offset` of the activity order. */
async function cursorAt(databaseUrl: string, offset: number): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ at: Date; id: string }>(
      `SELECT last_activity_at AS at, id FROM conversations
        ORDER BY last_activity_at DESC NULLS LAST, id DESC OFFSET $1 LIMIT 1`,
      [offset],
    );
    return Buffer.from(`${rows[0].at.toISOString()}|${rows[0].id}`).toString('base64url');
  } finally {
    await client.end();
  }
}

async function time(
  admin: RouterAdmin,
  path: string,
  expectRows: (body: { data: unknown[] }) => boolean,
) {
  const samples: number[] = [];
  for (let run = 0; run < WARMUP + SAMPLES; run++) {
    const started = performance.now();
    const answer = await admin.request('GET', path);
    const elapsed = performance.now() - started;
    if (answer.status !== 200 || !expectRows(answer.body as { data: unknown[] })) {
      throw new Error(`GET ${path}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    }
    if (run >= WARMUP) samples.push(elapsed);
  }
  return summarize(samples);
}

export async function runConversationsBenchmark(ctx: BenchContext): Promise<void> {
  const count = ctx.config.conversations.count;
  const env = ctx.routerEnvironment('conversations');
  const api = await startRouterApi(env, await freePort());
  try {
    console.log(`\nconversations: seeding ${count} conversations, contacts and identities`);
    await seed(ctx.databaseUrl, count);
    const middle = Math.floor(count * 0.9);
    const email = `person-${middle}@example.com`;
    const phone = `+1408${String(middle).padStart(7, '0')}`;
    const deep = await cursorAt(ctx.databaseUrl, middle);
    const page = (body: { data: unknown[] }) => body.data.length === 50;
    const one = (body: { data: unknown[] }) => body.data.length === 1;
    const cases: [string, string, (body: { data: unknown[] }) => boolean][] = [
      ['list by activity, first page', '/api/conversations?limit=50', page],
      [
        `list by activity, page after row ${middle}`,
        `/api/conversations?limit=50&cursor=${deep}`,
        page,
      ],
      [
        'list: status=open&channel=whatsapp',
        '/api/conversations?status=open&channel=whatsapp&limit=50',
        page,
      ],
      ['conversations by email (q)', `/api/conversations?q=${encodeURIComponent(email)}`, one],
      ['conversations by phone (q)', `/api/conversations?q=${encodeURIComponent(phone)}`, one],
      ['contact by email', `/api/contacts?email=${encodeURIComponent(email)}`, one],
      ['contact by phone', `/api/contacts?phone=${encodeURIComponent(phone)}`, one],
    ];
    const results = [];
    for (const [name, path, check] of cases) {
      results.push({ name, path, ...(await time(api.admin, path, check)) });
    }
    printTable(
      `Conversations API with ${count} conversations (${SAMPLES} requests each, ms, HTTP round trip)`,
      ['query', 'p50', 'p90', 'p99', 'max', `p90 < ${TARGET_MS} ms`],
      results.map((r) => [r.name, r.p50, r.p90, r.p99, r.max, verdict(r.p90 < TARGET_MS)]),
    );
    console.log(`→ ${writeResults('conversations', { count, targetMs: TARGET_MS, results })}`);
  } finally {
    await api.process.stop();
  }
}
