/**
 * Benchmark 3, memory: the peak RSS the ingest and e2e benchmarks saw (sampled every 250 ms),
 * and a soak: a steady ingest rate fanned out to 3 subscriptions, RSS sampled every
 * BENCH_SOAK_SAMPLE_S after a warm-up, with its linear trend in MB/min.
 */
import { BenchContext } from './lib/context';
import { WebhookSender } from './lib/load';
import { freePort } from '../test/support/processes';
import { printTable, verdict, writeResults } from './lib/report';
import { startRouterApi, startRouterWorker } from './lib/router';
import { RssSampler, rssTrend, RssTrend } from './lib/rss';
import { ArrivalSink } from './lib/sink';
import { round, summarize } from './lib/stats';

const API_PEAK_TARGET_MB = 200;
/** Growth under this rate over the soak counts as flat (sampling noise, GC cycles). */
const FLAT_SLOPE_MB_PER_MIN = 0.5;

interface SoakResult {
  minutes: number;
  ratePerSecond: number;
  sent: number;
  ingestErrors: number;
  ingestP50Ms: number;
  ingestP99Ms: number;
  delivered: number;
  trends: Record<string, RssTrend>;
  peaksMb: Record<string, number>;
}

async function soak(ctx: BenchContext): Promise<SoakResult> {
  const { minutes, ratePerSecond, warmupS, sampleEveryS } = ctx.config.soak;
  const env = ctx.routerEnvironment('soak');
  const sink = await new ArrivalSink().start();
  const api = await startRouterApi(env, await freePort());
  try {
    const worker = await startRouterWorker(env);
    try {
      const source = await api.admin.createJivoSource('bench soak');
      for (const n of [1, 2, 3]) {
        await api.admin.createSubscription(`sink ${n}`, `${sink.baseUrl}/soak/${n}`, source.id);
      }
      const sender = new WebhookSender(source.url, 20, ctx.bodies);
      const processes = [api.process, worker];
      const peaks = processes.map((child) => new RssSampler(child.name, child.pid, 250).start());
      try {
        console.log(`soak: ${ratePerSecond} req/s, ${warmupS} s warm-up, then ${minutes} min`);
        await sender.paced(ratePerSecond, warmupS * 1000);
        const trends = processes.map((child) =>
          new RssSampler(child.name, child.pid, sampleEveryS * 1000).start(),
        );
        const warmupAnswers = sender.answers.length;
        await sender.paced(ratePerSecond, minutes * 60_000);
        for (const sampler of trends) sampler.stop();
        const soakAnswers = sender.answers.slice(warmupAnswers);
        const latency = summarize(soakAnswers.map((answer) => answer.latencyMs));
        return {
          minutes,
          ratePerSecond,
          sent: soakAnswers.length,
          ingestErrors: sender.errors + soakAnswers.filter((answer) => !answer.ok).length,
          ingestP50Ms: round(latency.p50, 2),
          ingestP99Ms: round(latency.p99, 2),
          delivered: sink.arrivals.size,
          trends: Object.fromEntries(trends.map((s) => [s.label, rssTrend(s.samples)])),
          peaksMb: Object.fromEntries(peaks.map((s) => [s.label, round(s.peakMb)])),
        };
      } finally {
        for (const sampler of peaks) sampler.stop();
        await sender.close();
      }
    } finally {
      await worker.stop();
    }
  } finally {
    await api.process.stop();
    await sink.stop();
  }
}

export async function runMemoryBenchmark(ctx: BenchContext): Promise<void> {
  const result = await soak(ctx);
  for (const [process, peakMb] of Object.entries(result.peaksMb)) {
    ctx.rssPeaks.push({ benchmark: 'soak', process, peakMb });
  }
  printTable(
    'Peak RSS (sampled every 250 ms)',
    ['benchmark', 'process', 'peak MB', 'verdict'],
    ctx.rssPeaks.map((peak) => [
      peak.benchmark,
      peak.process,
      peak.peakMb,
      peak.process === 'router api' ? verdict(peak.peakMb < API_PEAK_TARGET_MB) : '',
    ]),
  );
  printTable(
    `Soak: ${result.ratePerSecond} req/s × ${result.minutes} min, RSS every ${ctx.config.soak.sampleEveryS} s after warm-up`,
    ['process', 'start MB', 'end MB', 'max MB', 'slope MB/min', 'samples', 'verdict'],
    Object.entries(result.trends).map(([process, trend]) => [
      process,
      trend.startMb,
      trend.endMb,
      trend.maxMb,
      trend.slopeMbPerMin,
      trend.samples,
      verdict(trend.slopeMbPerMin < FLAT_SLOPE_MB_PER_MIN),
    ]),
  );
  printTable(
    'Soak traffic',
    ['sent', 'ingest errors', 'ingest p50 ms', 'ingest p99 ms', 'deliveries (incl. warm-up)'],
    [[result.sent, result.ingestErrors, result.ingestP50Ms, result.ingestP99Ms, result.delivered]],
  );
  console.log(`→ ${writeResults('memory', { peaks: ctx.rssPeaks, soak: result })}`);
}
