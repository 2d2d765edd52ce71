/**
 * Benchmark 5, ordering: the same load through one API and one worker, delivered unordered and
 * then ordered per conversation (ordering "conversation"), in the same run; then one hot
 * conversation, whose rate is bounded by the sink's round trip. See docs/ordering.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { Agent, fetch } from 'undici';
import { HttpSink } from '../test/support/http-sink';
import { acceptOrderFromDatabase, checkOrdering } from '../test/support/ordering-check';
import { freePort, ManagedProcess } from '../test/support/processes';
import { BenchContext } from './lib/context';
import { printTable, PROJECT_ROOT, verdict, writeResults } from './lib/report';
import { RouterAdmin, startRouterApi, startRouterWorker } from './lib/router';
import { round, sleep } from './lib/stats';

const FIXTURE = join(PROJECT_ROOT, 'test', 'fixtures', 'chatwoot', 'message_created.json');

interface PhaseResult {
  phase: string;
  events: number;
  conversations: number;
  sinkDelayMs: number;
  ingestPerSec: number;
  deliveriesPerSec: number;
  seconds: number;
  /** Mean attempt duration the router recorded: the sink's round trip as the router saw it. */
  attemptMs: number;
  reordered: number | null;
  missing: number;
}

/** Counts first arrivals per path, with their order, answering after `delayMs`. */
class OrderingSink {
  delayMs = 0;
  readonly order = new Map<string, string[]>();
  private readonly seen = new Set<string>();
  private readonly sink = new HttpSink({
    keepRequests: false,
    keepAliveTimeoutMs: 30_000,
    onAnswered: (request) => {
      const id = String(request.headers['webhook-id']);
      const key = `${request.path} ${id}`;
      if (this.seen.has(key)) return;
      this.seen.add(key);
      const list = this.order.get(request.path) ?? [];
      list.push(id);
      this.order.set(request.path, list);
      this.lastArrival = Date.now();
    },
  }).answerWith(() => ({ status: 200, delayMs: this.delayMs || undefined }));
  lastArrival = 0;

  get url(): string {
    return this.sink.url;
  }

  count(path: string): number {
    return this.order.get(path)?.length ?? 0;
  }

  async start(): Promise<this> {
    await this.sink.start();
    return this;
  }

  stop(): Promise<void> {
    return this.sink.stop();
  }
}

/** Posts `events` Chatwoot messages spread over `conversations`, `concurrency` at a time. */
async function send(
  url: string,
  events: number,
  conversations: number,
  concurrency: number,
  firstId: number,
): Promise<{ eventIds: string[]; errors: number }> {
  const template = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  const agent = new Agent({ connections: concurrency });
  const eventIds: string[] = [];
  let errors = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < events) {
        const index = next++;
        const conversation = 500_000 + (index % conversations);
        const body = JSON.stringify({
          ...template,
          id: firstId + index,
          content: `bench ${firstId + index}`,
          conversation: { ...template.conversation, id: conversation, display_id: conversation },
        });
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          dispatcher: agent,
        }).catch(() => null);
        if (response?.status === 200) {
          eventIds.push(((await response.json()) as { eventId: string }).eventId);
        } else {
          errors += 1;
          await response?.body?.cancel();
        }
      }
    }),
  );
  await agent.close();
  return { eventIds, errors };
}

async function phase(
  ctx: BenchContext,
  admin: RouterAdmin,
  sink: OrderingSink,
  database: Client,
  options: {
    name: string;
    ordered: boolean;
    events: number;
    conversations: number;
    sinkDelayMs: number;
  },
): Promise<PhaseResult> {
  const path = `/${options.name.replace(/\W+/g, '-')}`;
  const source = await admin.expectOk('POST', '/api/sources', {
    kind: 'chatwoot',
    name: `bench ordering ${options.name}`,
  });
  const subscription = await admin.expectOk('POST', '/api/subscriptions', {
    name: options.name,
    url: `${sink.url}${path}`,
    eventTypes: ['*'],
    sourceIds: [source.id],
    ordering: options.ordered ? 'conversation' : 'none',
  });
  sink.delayMs = options.sinkDelayMs;
  const webhookUrl = `${admin.baseUrl}/webhooks/chatwoot/${source.token}`;
  const startedAt = Date.now();
  const { eventIds, errors } = await send(
    webhookUrl,
    options.events,
    options.conversations,
    ctx.config.e2e.concurrency,
    10_000_000 + Math.floor(Math.random() * 1_000_000) * 100,
  );
  const ingestSeconds = (Date.now() - startedAt) / 1000;
  let progress = -1;
  let progressAt = Date.now();
  while (sink.count(path) < eventIds.length) {
    if (sink.count(path) > progress) {
      progress = sink.count(path);
      progressAt = Date.now();
    } else if (Date.now() - progressAt > ctx.config.e2e.stallTimeoutS * 1000) {
      throw new Error(`${options.name}: ${progress} of ${eventIds.length} deliveries, stalled`);
    }
    await sleep(20);
  }
  const seconds = (sink.lastArrival - startedAt) / 1000;
  const [{ attempt_ms }] = (
    await database.query(
      `SELECT avg(a.duration_ms)::float AS attempt_ms FROM delivery_attempts a
         JOIN deliveries d ON d.id = a.delivery_id WHERE d.subscription_id = $1`,
      [subscription.id],
    )
  ).rows;
  const report = checkOrdering(
    await acceptOrderFromDatabase((sql, parameters) => database.query(sql, parameters), eventIds),
    sink.order.get(path) ?? [],
  );
  return {
    phase: options.name,
    events: eventIds.length,
    conversations: options.conversations,
    sinkDelayMs: options.sinkDelayMs,
    ingestPerSec: round(eventIds.length / ingestSeconds, 0),
    deliveriesPerSec: round(eventIds.length / seconds, 0),
    seconds: round(seconds, 2),
    attemptMs: round(attempt_ms, 1),
    reordered: options.ordered ? report.reordered : null,
    missing: report.missing + errors,
  };
}

export async function runOrderingBenchmark(ctx: BenchContext): Promise<void> {
  const { events, conversations, hotEvents, hotSinkDelayMs } = ctx.config.ordering;
  console.log(
    `ordering: ${events} events over ${conversations} conversations, unordered then ordered; ` +
      `then ${hotEvents} in one conversation, sink answering after ${hotSinkDelayMs} ms`,
  );
  const env = ctx.routerEnvironment('ordering');
  const processes: ManagedProcess[] = [];
  const sink = await new OrderingSink().start();
  const database = new Client({ connectionString: ctx.databaseUrl });
  const results: PhaseResult[] = [];
  try {
    const api = await startRouterApi(env, await freePort(), { label: 'api' });
    processes.push(api.process);
    processes.push(await startRouterWorker(env, { label: 'worker' }));
    await database.connect();
    const phases = [
      { name: 'unordered', ordered: false, events, conversations, sinkDelayMs: 0 },
      { name: 'ordered', ordered: true, events, conversations, sinkDelayMs: 0 },
      {
        name: 'hot conversation',
        ordered: true,
        events: hotEvents,
        conversations: 1,
        sinkDelayMs: hotSinkDelayMs,
      },
    ];
    for (const each of phases) {
      const result = await phase(ctx, api.admin, sink, database, each);
      console.log(`  ${result.phase}: ${result.deliveriesPerSec} deliveries/s`);
      results.push(result);
    }
  } finally {
    await Promise.all(processes.map((child) => child.stop()));
    await database.end().catch(() => undefined);
    await sink.stop();
  }
  const [unordered, ordered, hot] = results;
  const ratio = round(ordered.deliveriesPerSec / unordered.deliveriesPerSec, 2);
  // One delivery per round trip at most: the sink's answer plus what the router adds per step.
  const hotCeiling = round(1000 / hot.attemptMs, 1);
  const overheadMs = round(1000 / hot.deliveriesPerSec - hot.attemptMs, 1);
  printTable(
    'Ordering (1 API + 1 worker; same Postgres and Redis; local sink)',
    [
      'phase',
      'events',
      'conversations',
      'sink delay ms',
      'ingest/s',
      'deliveries/s',
      'seconds',
      'attempt ms',
      'reordered',
      'missing',
    ],
    results.map((result) => [
      result.phase,
      result.events,
      result.conversations,
      result.sinkDelayMs,
      result.ingestPerSec,
      result.deliveriesPerSec,
      result.seconds,
      result.attemptMs,
      result.reordered ?? '-',
      result.missing,
    ]),
  );
  console.log(
    `ordered / unordered: ${ratio} (goal ≥ 0.8: ${verdict(ratio >= 0.8)}); hot conversation: ` +
      `${hot.deliveriesPerSec}/s with ${hot.attemptMs} ms attempts (1/round trip = ${hotCeiling}/s; ` +
      `router time between two deliveries ≈ ${overheadMs} ms)`,
  );
  console.log(`→ ${writeResults('ordering', { results, ratio, hotCeiling, overheadMs })}`);
}
