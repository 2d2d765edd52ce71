/**
 * Benchmark 8, latency: a realistic steady rate (BENCH_LATENCY_RATE webhooks/s, default 100) of
 * unique Jivo webhooks through one API and one worker process, fanned out to 3 subscriptions on a
 * local sink. Each delivery's latency runs from the router's own `receivedAt` (in the canonical
 * event) to its arrival at the sink: the time the router adds, without the sender's side. Once
 * with unordered subscriptions, then with `ordering: "conversation"` on all three.
 */
import { HttpSink, SinkRequest } from '../test/support/http-sink';
import { freePort, ManagedProcess } from '../test/support/processes';
import { BenchContext } from './lib/context';
import { WebhookSender } from './lib/load';
import { printTable, verdict, writeResults } from './lib/report';
import { readCpuMs } from './lib/cpu';
import { RouterAdmin, startRouterApi, startRouterWorker } from './lib/router';
import { sleep, summarize } from './lib/stats';

const FAN_OUT = 3;
const SENDER_CONNECTIONS = 20;

interface LatencyPhase {
  phase: string;
  ratePerSec: number;
  seconds: number;
  events: number;
  deliveries: number;
  ingestErrors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The worker's CPU time over the phase (warm-up included) per delivery that arrived. */
  workerCpuUsPerDelivery: number;
}

/** Records, per (path, webhook-id), the first arrival's latency from the router's receivedAt. */
class LatencySink {
  /** path prefix of the phase → latencies (ms) of measured events. */
  private readonly latencies = new Map<string, number[]>();
  private readonly seen = new Set<string>();
  private readonly arrivedPerPhase = new Map<string, number>();
  measureFrom = 0;
  unrecognized = 0;
  private readonly sink = new HttpSink({
    keepRequests: false,
    keepAliveTimeoutMs: 30_000,
    onAnswered: (request) => this.record(request),
  });

  get url(): string {
    return this.sink.url;
  }

  async start(): Promise<this> {
    await this.sink.start();
    return this;
  }

  stop(): Promise<void> {
    return this.sink.stop();
  }

  arrived(phase: string): number {
    return this.arrivedPerPhase.get(phase) ?? 0;
  }

  latenciesOf(phase: string): number[] {
    return this.latencies.get(phase) ?? [];
  }

  private record(request: SinkRequest): void {
    const key = `${request.path} ${String(request.headers['webhook-id'])}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const phase = request.path.split('/')[1];
    this.arrivedPerPhase.set(phase, this.arrived(phase) + 1);
    let receivedAt = Number.NaN;
    try {
      receivedAt = Date.parse((JSON.parse(request.body) as { receivedAt: string }).receivedAt);
    } catch {
      receivedAt = Number.NaN;
    }
    if (Number.isNaN(receivedAt)) {
      this.unrecognized++;
      return;
    }
    if (receivedAt < this.measureFrom) return;
    const list = this.latencies.get(phase) ?? [];
    list.push(request.receivedAt - receivedAt);
    this.latencies.set(phase, list);
  }
}

async function runPhase(
  ctx: BenchContext,
  admin: RouterAdmin,
  sink: LatencySink,
  name: 'unordered' | 'ordered',
  workerPid: number,
): Promise<LatencyPhase> {
  const { ratePerSecond, seconds, warmupS } = ctx.config.latency;
  const source = await admin.createJivoSource(`bench latency ${name}`);
  for (const n of [1, 2, 3]) {
    await admin.expectOk('POST', '/api/subscriptions', {
      name: `latency ${name} ${n}`,
      url: `${sink.url}/${name}/${n}`,
      eventTypes: ['*'],
      sourceIds: [source.id],
      ordering: name === 'ordered' ? 'conversation' : 'none',
    });
  }
  const sender = new WebhookSender(source.url, SENDER_CONNECTIONS, ctx.bodies);
  const cpuBefore = readCpuMs(workerPid);
  try {
    // The warm-up's deliveries arrive but are not counted (JIT, pools, first subscription load).
    sink.measureFrom = Date.now() + warmupS * 1000;
    await sender.paced(ratePerSecond, (warmupS + seconds) * 1000);
  } finally {
    await sender.close();
  }
  const accepted = sender.answers.filter((answer) => answer.ok).length;
  const expected = accepted * FAN_OUT;
  let progress = -1;
  let progressAt = Date.now();
  while (sink.arrived(name) < expected) {
    if (sink.arrived(name) > progress) {
      progress = sink.arrived(name);
      progressAt = Date.now();
    } else if (Date.now() - progressAt > ctx.config.e2e.stallTimeoutS * 1000) {
      throw new Error(`latency ${name}: ${progress} of ${expected} deliveries, stalled`);
    }
    await sleep(20);
  }
  // Over the whole phase, warm-up included: every delivery that arrived.
  const workerCpuUsPerDelivery = Math.round(
    ((readCpuMs(workerPid) - cpuBefore) * 1000) / Math.max(sink.arrived(name), 1),
  );
  const latencies = sink.latenciesOf(name);
  const summary = summarize(latencies);
  return {
    phase: name,
    ratePerSec: ratePerSecond,
    seconds,
    events: accepted,
    deliveries: latencies.length,
    ingestErrors: sender.answers.length - accepted + sender.errors,
    p50Ms: summary.p50,
    p90Ms: summary.p90,
    p99Ms: summary.p99,
    maxMs: summary.max,
    workerCpuUsPerDelivery,
  };
}

export async function runLatencyBenchmark(ctx: BenchContext): Promise<void> {
  const { ratePerSecond, seconds, warmupS } = ctx.config.latency;
  console.log(
    `latency: ${ratePerSecond} webhooks/s × ${FAN_OUT} subscriptions for ${seconds} s ` +
      `(after ${warmupS} s warm-up), unordered then ordered per conversation`,
  );
  const env = ctx.routerEnvironment('latency');
  const processes: ManagedProcess[] = [];
  const sink = await new LatencySink().start();
  const results: LatencyPhase[] = [];
  try {
    const api = await startRouterApi(env, await freePort(), { label: 'api' });
    processes.push(api.process);
    const worker = await startRouterWorker(env, { label: 'worker' });
    processes.push(worker);
    for (const name of ['unordered', 'ordered'] as const) {
      const result = await runPhase(ctx, api.admin, sink, name, worker.pid);
      console.log(`  ${name}: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`);
      results.push(result);
    }
  } finally {
    await Promise.all(processes.map((child) => child.stop()));
    await sink.stop();
  }
  printTable(
    'Latency (router receivedAt → arrival at the sink; 1 API + 1 worker; local sink)',
    [
      'phase',
      'webhooks/s',
      'seconds',
      'events',
      'deliveries',
      'errors',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'worker CPU µs/delivery',
    ],
    results.map((result) => [
      result.phase,
      result.ratePerSec,
      result.seconds,
      result.events,
      result.deliveries,
      result.ingestErrors,
      result.p50Ms,
      result.p90Ms,
      result.p99Ms,
      result.maxMs,
      result.workerCpuUsPerDelivery,
    ]),
  );
  const [unordered, ordered] = results;
  printTable(
    'Latency summary',
    ['metric', 'value', 'target', 'verdict'],
    [
      ['unordered p50 ms', unordered.p50Ms, '≤ 8', verdict(unordered.p50Ms <= 8)],
      ['unordered p99 ms', unordered.p99Ms, '≤ 25', verdict(unordered.p99Ms <= 25)],
      ['ordered p99 ms', ordered.p99Ms, '≤ 40', verdict(ordered.p99Ms <= 40)],
      ['unrecognized deliveries', sink.unrecognized, '0', verdict(sink.unrecognized === 0)],
    ],
  );
  console.log(`→ ${writeResults('latency', { results, unrecognized: sink.unrecognized })}`);
}
