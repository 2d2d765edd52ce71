/**
 * `npm run bench`: ingest, end-to-end and memory benchmarks of the router against bare
 * Fastify/BullMQ floors, its scaling from 1+1 to 2+2 processes, conversation listing and ordered
 * delivery, the action API, and latency at a steady rate.
 * BENCH_ONLY=ingest|e2e|memory|scaling|conversations|ordering|actions|latency
 * runs some; see bench/README.md.
 */
import { BenchContext } from './lib/context';
import { BenchmarkName, loadBenchConfig } from './lib/config';
import { recreateDatabase } from './lib/database';
import { stopAll } from '../test/support/processes';
import { deletePrefix } from './lib/redis-keys';
import { runActionsBenchmark } from './actions';
import { runConversationsBenchmark } from './conversations';
import { runE2eBenchmark } from './e2e';
import { runIngestBenchmark } from './ingest';
import { runLatencyBenchmark } from './latency';
import { runMemoryBenchmark } from './memory';
import { runOrderingBenchmark } from './ordering';
import { runScalingBenchmark } from './scaling';

const BENCHMARKS: Record<BenchmarkName, (ctx: BenchContext) => Promise<void>> = {
  ingest: runIngestBenchmark,
  e2e: runE2eBenchmark,
  memory: runMemoryBenchmark,
  scaling: runScalingBenchmark,
  actions: runActionsBenchmark,
  conversations: runConversationsBenchmark,
  ordering: runOrderingBenchmark,
  latency: runLatencyBenchmark,
};

/** Ctrl-C or a kill stops the router and floor processes first (an exit kills what is left). */
function stopChildrenOnSignal(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping child processes`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

async function main(): Promise<void> {
  const config = loadBenchConfig();
  stopChildrenOnSignal();
  const ctx = new BenchContext(config);
  await recreateDatabase(config.postgresUrl, config.database);
  try {
    for (const name of config.only) await BENCHMARKS[name](ctx);
  } finally {
    await stopAll();
    for (const prefix of ctx.queuePrefixes) await deletePrefix(config.redisUrl, prefix);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
