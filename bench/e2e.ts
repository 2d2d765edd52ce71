/**
 * Benchmark 2, end to end: N unique Jivo webhooks ingested and fanned out to 3 subscriptions
 * on a local sink, through the router (API + worker processes) and through the bare floor
 * (ingest floor + delivery floor). Deliveries/s runs from the first ingest to the last arrival.
 */
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { INGEST_QUEUE } from '../src/queues/queue-names';
import { BenchContext } from './lib/context';
import { readCpuMs } from './lib/cpu';
import { countAttempts } from './lib/database';
import { startDeliveryFloor, startIngestFloor } from './lib/floor';
import { WebhookSender } from './lib/load';
import { JIVO_FIXTURE, JivoBodies } from './lib/payloads';
import { freePort, ManagedProcess } from '../test/support/processes';
import { CPU_PROFILE_PRELOAD, printProfileSummary } from './lib/profile-summary';
import { printTable, RESULTS_DIR, verdict, writeResults } from './lib/report';
import { RouterEnvironment, startRouterApi, startRouterWorker } from './lib/router';
import { RssSampler } from './lib/rss';
import { serviceCpuMs } from './lib/service-cpu';
import { ArrivalSink } from './lib/sink';
import { round, sleep, summarize } from './lib/stats';

const WORKER_PROFILE_FILE = join(RESULTS_DIR, 'e2e-worker.cpuprofile');

export const FAN_OUT = 3;

export interface E2eRun {
  target: string;
  events: number;
  /** Webhooks answered per second during the burst. */
  ingestPerSec: number;
  deliveries: number;
  seconds: number;
  deliveriesPerSec: number;
  ingestErrors: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  duplicates: number;
  /**
   * CPU time each process used per delivery, in µs, ingest side then delivery side, then the
   * Postgres and Redis servers (all their work meanwhile; Postgres when it runs on this machine).
   */
  cpuUsPerDelivery: { process: string; us: number }[];
}

/**
 * Sends `events` unique webhooks, `concurrency` at a time, spread evenly over `urls` (several API
 * processes, as a load balancer would), and waits for every delivery of every accepted one.
 */
export async function measure(
  ctx: BenchContext,
  target: string,
  urls: string[],
  sink: ArrivalSink,
  bodies: JivoBodies = ctx.bodies,
): Promise<Omit<E2eRun, 'cpuUsPerDelivery'>> {
  const { events, concurrency, stallTimeoutS } = ctx.config.e2e;
  sink.reset();
  const share = (total: number, index: number) =>
    Math.floor(total / urls.length) + (index < total % urls.length ? 1 : 0);
  const senders = urls.map(
    (url, index) => new WebhookSender(url, share(concurrency, index), bodies),
  );
  const startedAt = Date.now();
  try {
    await Promise.all(
      senders.map((sender, index) => sender.burst(share(events, index), share(concurrency, index))),
    );
  } finally {
    await Promise.all(senders.map((sender) => sender.close()));
  }
  const answers = senders.flatMap((sender) => sender.answers);
  const accepted = answers.filter((answer) => answer.ok);
  const ingestSeconds =
    (Math.max(...answers.map((answer) => answer.answeredAt)) - startedAt) / 1000;
  await sink.waitForArrivals(accepted.length * FAN_OUT, stallTimeoutS * 1000);
  const answeredAt = new Map(
    accepted.map((answer) => [String(answer.sequence), answer.answeredAt]),
  );
  const latencies: number[] = [];
  let lastArrival = startedAt;
  for (const [key, arrivedAt] of sink.arrivals) {
    lastArrival = Math.max(lastArrival, arrivedAt);
    const answered = answeredAt.get(key.split(' ')[0]);
    if (answered !== undefined) latencies.push(arrivedAt - answered);
  }
  const latency = summarize(latencies);
  const seconds = (lastArrival - startedAt) / 1000;
  return {
    target,
    events,
    ingestPerSec: round(events / ingestSeconds),
    deliveries: sink.arrivals.size,
    seconds: round(seconds, 2),
    deliveriesPerSec: round(sink.arrivals.size / seconds),
    ingestErrors: events - accepted.length,
    latencyP50Ms: latency.p50,
    latencyP99Ms: latency.p99,
    latencyMaxMs: latency.max,
    duplicates: sink.duplicates,
  };
}

/**
 * Runs a measurement while sampling the processes' RSS and counting their CPU time, and the
 * Postgres and Redis servers'.
 */
export async function withSamplers(
  ctx: BenchContext,
  benchmark: string,
  processes: ManagedProcess[],
  work: () => Promise<Omit<E2eRun, 'cpuUsPerDelivery'>>,
): Promise<E2eRun> {
  const samplers = processes.map((child) => new RssSampler(child.name, child.pid, 250).start());
  const cpuBefore = processes.map((child) => readCpuMs(child.pid));
  const servicesBefore = await serviceCpuMs(ctx.config.redisUrl);
  try {
    const run = await work();
    const perDelivery = (ms: number) => round((ms * 1000) / Math.max(run.deliveries, 1));
    const cpuUsPerDelivery = processes.map((child, index) => ({
      process: child.name,
      us: perDelivery(readCpuMs(child.pid) - cpuBefore[index]),
    }));
    const servicesAfter = await serviceCpuMs(ctx.config.redisUrl);
    for (const service of ['postgres', 'redis'] as const) {
      const before = servicesBefore[service];
      const after = servicesAfter[service];
      if (before !== null && after !== null) {
        cpuUsPerDelivery.push({ process: service, us: perDelivery(after - before) });
      }
    }
    return { ...run, cpuUsPerDelivery };
  } finally {
    for (const sampler of samplers) {
      sampler.stop();
      ctx.rssPeaks.push({
        benchmark,
        process: sampler.label,
        peakMb: round(sampler.peakMb),
      });
    }
  }
}

async function runFloor(ctx: BenchContext, sink: ArrivalSink): Promise<E2eRun> {
  const prefix = ctx.queuePrefix('e2e_floor');
  const targets = [1, 2, 3].map((n) => `${sink.baseUrl}/floor/${n}`);
  const ingest = await startIngestFloor(ctx.config.redisUrl, prefix, await freePort());
  try {
    const delivery = await startDeliveryFloor(ctx.config.redisUrl, prefix, targets);
    try {
      if (ctx.config.e2e.warm) await measure(ctx, 'floor (first pass)', [ingest.url], sink);
      return await withSamplers(ctx, 'e2e', [ingest.process, delivery], () =>
        measure(ctx, 'floor', [ingest.url], sink),
      );
    } finally {
      await delivery.stop();
    }
  } finally {
    await ingest.process.stop();
  }
}

/** The worker records an attempt after the sink answered: give the last rows a moment. */
export async function settledCounts(ctx: BenchContext, sourceId: string, expectedAttempts: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const counts = await countAttempts(ctx.databaseUrl, sourceId);
    if (counts.attempts >= expectedAttempts || Date.now() > deadline) return counts;
    await sleep(250);
  }
}

/** The worker draining a queue of webhooks accepted while its ingest queue was paused. */
export interface DrainRun {
  events: number;
  deliveries: number;
  seconds: number;
  deliveriesPerSec: number;
  workerUsPerDelivery: number;
}

/**
 * The webhooks of one more pass accepted with the ingest queue paused, then drained by the
 * worker alone: its CPU per delivery with no API, load generator or floor beside it, and full
 * batches every time (less scatter than the pass above, which shares the cores with all three).
 */
async function drain(
  ctx: BenchContext,
  env: RouterEnvironment,
  workerPid: number,
  sourceUrl: string,
  sink: ArrivalSink,
  bodies: JivoBodies,
): Promise<DrainRun> {
  const { events, concurrency, stallTimeoutS } = ctx.config.e2e;
  const queue = new Queue(INGEST_QUEUE, {
    connection: { url: env.redisUrl },
    prefix: env.queuePrefix,
  });
  try {
    await queue.pause();
    sink.reset();
    const sender = new WebhookSender(sourceUrl, concurrency, bodies);
    try {
      await sender.burst(events, concurrency);
    } finally {
      await sender.close();
    }
    const accepted = sender.answers.filter((answer) => answer.ok).length;
    // The pass before records its last attempts meanwhile.
    await sleep(1000);
    const cpuBefore = readCpuMs(workerPid);
    const startedAt = Date.now();
    await queue.resume();
    await sink.waitForArrivals(accepted * FAN_OUT, stallTimeoutS * 1000);
    const cpuMs = readCpuMs(workerPid) - cpuBefore;
    const seconds = (Date.now() - startedAt) / 1000;
    const deliveries = sink.arrivals.size;
    return {
      events: accepted,
      deliveries,
      seconds: round(seconds, 2),
      deliveriesPerSec: round(deliveries / seconds),
      workerUsPerDelivery: round((cpuMs * 1000) / Math.max(deliveries, 1)),
    };
  } finally {
    await queue.close();
  }
}

async function runRouter(
  ctx: BenchContext,
  sink: ArrivalSink,
): Promise<{
  run: E2eRun;
  drained: DrainRun | null;
  recorded: Awaited<ReturnType<typeof countAttempts>>;
  passes: number;
}> {
  const env = ctx.routerEnvironment('e2e_router');
  const api = await startRouterApi(env, await freePort());
  try {
    const profiled = ctx.config.cpuProfileWorker;
    const worker = await startRouterWorker(
      env,
      profiled
        ? {
            nodeArgs: ['--require', CPU_PROFILE_PRELOAD],
            env: { BENCH_CPU_PROFILE_FILE: WORKER_PROFILE_FILE },
          }
        : {},
    );
    try {
      const source = await api.admin.createJivoSource('bench e2e');
      for (const n of [1, 2, 3]) {
        await api.admin.createSubscription(`sink ${n}`, `${sink.baseUrl}/router/${n}`, source.id);
      }
      let bodies = ctx.bodies;
      let drainBodies = ctx.bodies;
      let passes = 1;
      if (ctx.config.e2e.warm) {
        // Unmeasured: warms the processes up; with known visitors, makes the chats, contacts
        // and identities the measured pass then finds known (else it goes on with new ones).
        const first = ctx.bodies.nextSequence;
        await measure(ctx, 'router (first pass)', [source.url], sink);
        passes = 2;
        if (ctx.config.e2e.visitors === 'known') {
          // A second unmeasured pass runs the returning visitor's code once before it is
          // measured, as the first pass did for a new visitor's: the measured pass then counts
          // what each event costs, not the JIT compiling code it runs for the first time.
          await measure(
            ctx,
            'router (second pass)',
            [source.url],
            sink,
            new JivoBodies(first, JIVO_FIXTURE, 2),
          );
          bodies = new JivoBodies(first, JIVO_FIXTURE, 3);
          drainBodies = new JivoBodies(first, JIVO_FIXTURE, 4);
          passes = 3;
        }
      }
      if (profiled) process.kill(worker.pid, 'SIGUSR2');
      const run = await withSamplers(ctx, 'e2e', [api.process, worker], () =>
        measure(ctx, 'router', [source.url], sink, bodies),
      );
      if (profiled) {
        process.kill(worker.pid, 'SIGUSR2');
        await sleep(3000);
        printProfileSummary('Router worker', WORKER_PROFILE_FILE);
      }
      const drained = ctx.config.e2e.drain
        ? await drain(ctx, env, worker.pid, source.url, sink, drainBodies)
        : null;
      if (drained) passes += 1;
      const recorded = await settledCounts(ctx, source.id, passes * run.events * FAN_OUT);
      return { run, drained, recorded, passes };
    } finally {
      await worker.stop();
    }
  } finally {
    await api.process.stop();
  }
}

export async function runE2eBenchmark(ctx: BenchContext): Promise<void> {
  const { events, concurrency } = ctx.config.e2e;
  console.log(
    `e2e: ${events} events × ${FAN_OUT} subscriptions, ${concurrency} concurrent ingests, ` +
      `${ctx.config.e2e.visitors} visitors, ${ctx.config.e2e.warm ? 'after an unmeasured first pass' : 'cold'}`,
  );
  const sink = await new ArrivalSink().start();
  try {
    const floor = await runFloor(ctx, sink);
    console.log(`  floor: ${floor.deliveriesPerSec} deliveries/s`);
    const { run: router, drained, recorded, passes } = await runRouter(ctx, sink);
    console.log(`  router: ${router.deliveriesPerSec} deliveries/s`);
    report(floor, router, drained, recorded, passes);
  } finally {
    await sink.stop();
  }
}

function report(
  floor: E2eRun,
  router: E2eRun,
  drained: DrainRun | null,
  recorded: Awaited<ReturnType<typeof countAttempts>>,
  /** Passes of the same events the router got (the recorded rows count them all). */
  passes: number,
): void {
  const runs = [floor, router];
  printTable(
    'End to end (ingest → 3 deliveries to a local sink)',
    [
      'target',
      'events',
      'deliveries',
      'seconds',
      'deliveries/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'ingest errors',
      'duplicates',
      'CPU µs/delivery',
    ],
    runs.map((run) => [
      run.target,
      run.events,
      run.deliveries,
      run.seconds,
      run.deliveriesPerSec,
      run.latencyP50Ms,
      run.latencyP99Ms,
      run.latencyMaxMs,
      run.ingestErrors,
      run.duplicates,
      run.cpuUsPerDelivery.map((entry) => `${entry.process} ${entry.us}`).join(', '),
    ]),
  );
  if (drained) {
    printTable(
      'Worker alone, draining one more pass accepted with its ingest queue paused',
      ['events', 'deliveries', 'seconds', 'deliveries/s', 'router worker CPU µs/delivery'],
      [
        [
          drained.events,
          drained.deliveries,
          drained.seconds,
          drained.deliveriesPerSec,
          drained.workerUsPerDelivery,
        ],
      ],
    );
  }
  const expectedEvents = passes * router.events;
  const expectedAttempts = expectedEvents * FAN_OUT;
  const ratio = round(router.deliveriesPerSec / floor.deliveriesPerSec, 3);
  printTable(
    'End to end summary',
    ['metric', 'value', 'target', 'verdict'],
    [
      ['router / floor deliveries/s', ratio, '≥ 0.6', verdict(ratio >= 0.6)],
      [
        'events stored (SQL)',
        recorded.events,
        expectedEvents,
        verdict(recorded.events === expectedEvents),
      ],
      [
        'deliveries (SQL)',
        recorded.deliveries,
        expectedAttempts,
        verdict(recorded.deliveries === expectedAttempts),
      ],
      [
        'delivery_attempts (SQL)',
        recorded.attempts,
        expectedAttempts,
        verdict(recorded.attempts === expectedAttempts),
      ],
      [
        'succeeded deliveries (SQL)',
        recorded.succeededDeliveries,
        expectedAttempts,
        verdict(recorded.succeededDeliveries === expectedAttempts),
      ],
    ],
  );
  console.log(`→ ${writeResults('e2e', { runs, drained, routerToFloor: ratio, recorded })}`);
}
