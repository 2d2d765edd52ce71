/**
 * Benchmark 1, ingest: autocannon against the router's API role and against two bare floors
 * (bench/floor/ingest-floor.ts: the plain one with BullMQ's default job options, and one with the
 * router's job options), one at a time, alternately, with unique Jivo bodies.
 */
import autocannon from 'autocannon';
import { join } from 'node:path';
import { BenchContext } from './lib/context';
import { readCpuMs } from './lib/cpu';
import { startIngestFloor } from './lib/floor';
import { freePort } from '../test/support/processes';
import { CPU_PROFILE_PRELOAD, printProfileSummary } from './lib/profile-summary';
import { deletePrefix } from './lib/redis-keys';
import { printTable, RESULTS_DIR, verdict, writeResults } from './lib/report';
import { startRouterApi } from './lib/router';
import { RssSampler } from './lib/rss';
import { round, sleep } from './lib/stats';

const CPU_PROFILE_FILE = join(RESULTS_DIR, 'ingest-api.cpuprofile');

interface Target {
  name: 'plain floor' | 'floor' | 'router';
  url: string;
  queuePrefix: string;
  pid: number;
}

export interface IngestRun {
  target: Target['name'];
  round: number;
  reqPerSec: number;
  requests: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  /** CPU time the server process used per request answered, in µs. */
  cpuUsPerRequest: number;
}

async function load(ctx: BenchContext, url: string, durationS: number) {
  const { bodies } = ctx;
  return autocannon({
    url,
    connections: ctx.config.ingest.connections,
    duration: durationS,
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: bodies.take().body }),
      },
    ],
  });
}

async function measure(ctx: BenchContext, target: Target, roundNumber: number): Promise<IngestRun> {
  const cpuBefore = readCpuMs(target.pid);
  const result = await load(ctx, target.url, ctx.config.ingest.durationS);
  const cpuMs = readCpuMs(target.pid) - cpuBefore;
  // Nothing consumes these queues: empty them so Redis memory does not grow run after run.
  await deletePrefix(ctx.config.redisUrl, target.queuePrefix);
  await sleep(1000);
  return {
    target: target.name,
    round: roundNumber,
    reqPerSec: round(result.requests.average),
    requests: result.requests.total,
    p50Ms: result.latency.p50,
    p90Ms: result.latency.p90,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    cpuUsPerRequest: round((cpuMs * 1000) / Math.max(result.requests.total, 1)),
  };
}

function mean(runs: IngestRun[], pick: (run: IngestRun) => number): number {
  return runs.reduce((sum, run) => sum + pick(run), 0) / runs.length;
}

export async function runIngestBenchmark(ctx: BenchContext): Promise<void> {
  const { config } = ctx;
  const routerEnv = ctx.routerEnvironment('ingest_router');
  const floorPrefix = ctx.queuePrefix('ingest_floor');
  const plainPrefix = ctx.queuePrefix('ingest_plain_floor');
  const api = await startRouterApi(
    routerEnv,
    await freePort(),
    config.cpuProfileApi
      ? {
          nodeArgs: ['--require', CPU_PROFILE_PRELOAD],
          env: { BENCH_CPU_PROFILE_FILE: CPU_PROFILE_FILE },
        }
      : {},
  );
  const floor = await startIngestFloor(config.redisUrl, floorPrefix, await freePort());
  const plain = await startIngestFloor(config.redisUrl, plainPrefix, await freePort(), 'default');
  const samplers = [
    new RssSampler('router api', api.process.pid, 250).start(),
    new RssSampler('ingest floor', floor.process.pid, 250).start(),
    new RssSampler('plain ingest floor', plain.process.pid, 250).start(),
  ];
  const runs: IngestRun[] = [];
  try {
    const source = await api.admin.createJivoSource('bench ingest');
    const targets: Target[] = [
      { name: 'plain floor', url: plain.url, queuePrefix: plainPrefix, pid: plain.process.pid },
      { name: 'floor', url: floor.url, queuePrefix: floorPrefix, pid: floor.process.pid },
      {
        name: 'router',
        url: source.url,
        queuePrefix: routerEnv.queuePrefix,
        pid: api.process.pid,
      },
    ];
    console.log(
      `ingest: ${config.ingest.rounds} round(s) × ${config.ingest.durationS} s, ` +
        `${config.ingest.connections} connections, after ${config.ingest.warmupS} s warm-up each`,
    );
    for (const target of targets) {
      if (config.ingest.warmupS > 0) await load(ctx, target.url, config.ingest.warmupS);
      await deletePrefix(config.redisUrl, target.queuePrefix);
    }
    for (let roundNumber = 1; roundNumber <= config.ingest.rounds; roundNumber++) {
      for (const target of targets) {
        const run = await measure(ctx, target, roundNumber);
        console.log(`  ${target.name} round ${roundNumber}: ${run.reqPerSec} req/s`);
        runs.push(run);
      }
    }
    if (config.cpuProfileApi) await profileRouter(ctx, api.process.pid, targets[2]);
  } finally {
    for (const sampler of samplers) sampler.stop();
    await Promise.all([api.process.stop(), floor.process.stop(), plain.process.stop()]);
  }
  for (const sampler of samplers) {
    ctx.rssPeaks.push({
      benchmark: 'ingest',
      process: sampler.label,
      peakMb: round(sampler.peakMb),
    });
    console.log(`  peak RSS ${sampler.label}: ${round(sampler.peakMb)} MB`);
  }
  report(runs);
}

/** One extra router run with the CPU profiler on (not counted in the results). */
async function profileRouter(ctx: BenchContext, pid: number, router: Target): Promise<void> {
  process.kill(pid, 'SIGUSR2');
  await load(ctx, router.url, ctx.config.ingest.durationS);
  process.kill(pid, 'SIGUSR2');
  await sleep(3000);
  await deletePrefix(ctx.config.redisUrl, router.queuePrefix);
  printProfileSummary('Router API', CPU_PROFILE_FILE);
}

function report(runs: IngestRun[]): void {
  printTable(
    'Ingest (autocannon, unique Jivo chat_accepted bodies)',
    [
      'target',
      'round',
      'req/s',
      'requests',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'errors',
      'timeouts',
      'non-2xx',
      'CPU µs/req',
    ],
    runs.map((run) => [
      run.target,
      run.round,
      run.reqPerSec,
      run.requests,
      run.p50Ms,
      run.p90Ms,
      run.p99Ms,
      run.maxMs,
      run.errors,
      run.timeouts,
      run.non2xx,
      run.cpuUsPerRequest,
    ]),
  );
  const plain = runs.filter((run) => run.target === 'plain floor');
  const floor = runs.filter((run) => run.target === 'floor');
  const router = runs.filter((run) => run.target === 'router');
  const summary = {
    plainFloorReqPerSec: round(mean(plain, (run) => run.reqPerSec)),
    floorReqPerSec: round(mean(floor, (run) => run.reqPerSec)),
    routerReqPerSec: round(mean(router, (run) => run.reqPerSec)),
    routerToPlainFloor: round(
      mean(router, (run) => run.reqPerSec) / mean(plain, (run) => run.reqPerSec),
      3,
    ),
    routerToFloor: round(
      mean(router, (run) => run.reqPerSec) / mean(floor, (run) => run.reqPerSec),
      3,
    ),
    plainFloorP99Ms: Math.max(...plain.map((run) => run.p99Ms)),
    floorP99Ms: Math.max(...floor.map((run) => run.p99Ms)),
    routerP99Ms: Math.max(...router.map((run) => run.p99Ms)),
    routerFailures: router.reduce((sum, run) => sum + run.errors + run.timeouts + run.non2xx, 0),
    plainFloorCpuUsPerRequest: round(mean(plain, (run) => run.cpuUsPerRequest)),
    floorCpuUsPerRequest: round(mean(floor, (run) => run.cpuUsPerRequest)),
    routerCpuUsPerRequest: round(mean(router, (run) => run.cpuUsPerRequest)),
  };
  printTable(
    'Ingest summary (mean over rounds; p99 = worst round)',
    ['metric', 'value', 'target', 'verdict'],
    [
      ['plain floor req/s (default job options)', summary.plainFloorReqPerSec, '', ''],
      ['floor req/s (router job options)', summary.floorReqPerSec, '', ''],
      ['router req/s', summary.routerReqPerSec, '', ''],
      [
        'router / plain floor',
        summary.routerToPlainFloor,
        '≥ 0.85',
        verdict(summary.routerToPlainFloor >= 0.85),
      ],
      ['router / floor', summary.routerToFloor, '', ''],
      ['plain floor p99 ms', summary.plainFloorP99Ms, '', ''],
      ['floor p99 ms', summary.floorP99Ms, '', ''],
      ['router p99 ms', summary.routerP99Ms, '≤ 20', verdict(summary.routerP99Ms <= 20)],
      ['plain floor CPU µs per request', summary.plainFloorCpuUsPerRequest, '', ''],
      ['floor CPU µs per request', summary.floorCpuUsPerRequest, '', ''],
      ['router CPU µs per request', summary.routerCpuUsPerRequest, '', ''],
      [
        'router errors + non-2xx',
        summary.routerFailures,
        '0',
        verdict(summary.routerFailures === 0),
      ],
    ],
  );
  console.log(`→ ${writeResults('ingest', { runs, summary })}`);
}
