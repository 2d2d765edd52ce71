/**
 * Benchmark 4, scaling: the end-to-end run of e2e.ts against 1 API + 1 worker and then against
 * 2 API + 2 worker processes sharing one Postgres and one Redis, in the same run. The webhooks
 * are spread evenly over the API processes, as a load balancer would.
 */
import { BenchContext } from './lib/context';
import { countAttempts } from './lib/database';
import { freePort, ManagedProcess } from '../test/support/processes';
import { printTable, verdict, writeResults } from './lib/report';
import { startRouterApi, startRouterWorker } from './lib/router';
import { ArrivalSink } from './lib/sink';
import { E2eRun, FAN_OUT, measure, settledCounts, withSamplers } from './e2e';

interface Topology {
  apis: number;
  workers: number;
}

interface ScalingRun extends E2eRun {
  recorded: Awaited<ReturnType<typeof countAttempts>>;
}

const TOPOLOGIES: Topology[] = [
  { apis: 1, workers: 1 },
  { apis: 2, workers: 2 },
];

async function runTopology(
  ctx: BenchContext,
  sink: ArrivalSink,
  { apis, workers }: Topology,
): Promise<ScalingRun> {
  const name = `${apis} api + ${workers} worker`;
  const env = ctx.routerEnvironment(`scaling_${apis}_${workers}`);
  const processes: ManagedProcess[] = [];
  try {
    const started = [];
    for (let n = 1; n <= apis; n++) {
      const api = await startRouterApi(env, await freePort(), { label: `api ${n}` });
      processes.push(api.process);
      started.push(api);
    }
    for (let n = 1; n <= workers; n++) {
      processes.push(await startRouterWorker(env, { label: `worker ${n}` }));
    }
    const source = await started[0].admin.createJivoSource(`bench scaling ${name}`);
    for (const n of [1, 2, 3]) {
      await started[0].admin.createSubscription(
        `sink ${n}`,
        `${sink.baseUrl}/scaling/${n}`,
        source.id,
      );
    }
    const path = new URL(source.url).pathname;
    const urls = started.map((api) => `${api.admin.baseUrl}${path}`);
    const run = await withSamplers(ctx, 'scaling', processes, () => measure(ctx, name, urls, sink));
    return { ...run, recorded: await settledCounts(ctx, source.id, run.events * FAN_OUT) };
  } finally {
    await Promise.all(processes.map((child) => child.stop()));
  }
}

export async function runScalingBenchmark(ctx: BenchContext): Promise<void> {
  const { events, concurrency } = ctx.config.e2e;
  console.log(
    `scaling: ${events} events × ${FAN_OUT} subscriptions, ${concurrency} concurrent ingests, ` +
      TOPOLOGIES.map(({ apis, workers }) => `${apis}+${workers}`).join(' then '),
  );
  const sink = await new ArrivalSink().start();
  const runs: ScalingRun[] = [];
  try {
    for (const topology of TOPOLOGIES) {
      const run = await runTopology(ctx, sink, topology);
      console.log(`  ${run.target}: ${run.deliveriesPerSec} deliveries/s`);
      runs.push(run);
    }
  } finally {
    await sink.stop();
  }
  report(runs);
}

function report(runs: ScalingRun[]): void {
  printTable(
    'Scaling (ingest → 3 deliveries to a local sink; same Postgres and Redis)',
    [
      'processes',
      'events',
      'ingest/s',
      'deliveries/s',
      'p50 ms',
      'p99 ms',
      'ingest errors',
      'duplicates',
      'stored',
      'attempts',
      'succeeded',
      'complete',
    ],
    runs.map((run) => [
      run.target,
      run.events,
      run.ingestPerSec,
      run.deliveriesPerSec,
      run.latencyP50Ms,
      run.latencyP99Ms,
      run.ingestErrors,
      run.duplicates,
      run.recorded.events,
      run.recorded.attempts,
      run.recorded.succeededDeliveries,
      verdict(
        run.recorded.events === run.events &&
          run.recorded.succeededDeliveries === run.events * FAN_OUT &&
          run.duplicates === 0,
      ),
    ]),
  );
  printTable(
    'Scaling: CPU µs per delivery by process',
    ['processes', 'CPU µs/delivery'],
    runs.map((run) => [
      run.target,
      run.cpuUsPerDelivery.map((entry) => `${entry.process} ${entry.us}`).join(', '),
    ]),
  );
  console.log(`→ ${writeResults('scaling', { runs })}`);
}
