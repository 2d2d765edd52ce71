/** Bench settings, read once from the environment (see bench/README.md). */
export const BENCHMARKS = [
  'ingest',
  'e2e',
  'memory',
  'scaling',
  'conversations',
  'ordering',
  'actions',
  'latency',
] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export interface BenchConfig {
  only: BenchmarkName[];
  redisUrl: string;
  postgresUrl: string;
  database: string;
  ingest: {
    durationS: number;
    warmupS: number;
    connections: number;
    rounds: number;
  };
  e2e: {
    events: number;
    concurrency: number;
    /** Fail when no delivery arrived for this long. */
    stallTimeoutS: number;
    /**
     * `new`: every event is a new visitor (new conversation, contact, identity); `known`: the
     * router first gets the same chats unmeasured, then the measured events are of known ones.
     */
    visitors: 'new' | 'known';
    /**
     * An unmeasured first pass of as many events, for the floor and the router alike (on unless
     * BENCH_E2E_WARM=0; always with `known`): the measured pass then runs JIT-compiled code, as
     * a process that has been up for a while does.
     */
    warm: boolean;
    /**
     * One more pass, accepted with the router's ingest queue paused and then drained by the
     * worker alone (on unless BENCH_E2E_DRAIN=0).
     */
    drain: boolean;
  };
  ordering: {
    events: number;
    conversations: number;
    hotEvents: number;
    hotSinkDelayMs: number;
  };
  soak: {
    minutes: number;
    ratePerSecond: number;
    warmupS: number;
    sampleEveryS: number;
  };
  conversations: {
    /** Conversations (and contacts) seeded before timing the listing and lookups. */
    count: number;
  };
  actions: {
    conversations: number;
    perConversation: number;
  };
  latency: {
    ratePerSecond: number;
    /** Measured seconds per phase, after the warm-up. */
    seconds: number;
    warmupS: number;
  };
  /** Write a V8 CPU profile of the router's API process during the ingest benchmark. */
  cpuProfileApi: boolean;
  /** Write a V8 CPU profile of the router's worker process during the e2e benchmark. */
  cpuProfileWorker: boolean;
}

function numberFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name}=${raw}: expected a number ≥ 0`);
  return value;
}

function onlyFrom(raw: string | undefined): BenchmarkName[] {
  if (!raw) return [...BENCHMARKS];
  const names = raw.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(BENCHMARKS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new Error(`BENCH_ONLY=${raw}: expected one or more of ${BENCHMARKS.join(', ')}`);
  }
  return names as BenchmarkName[];
}

export function loadBenchConfig(): BenchConfig {
  return {
    only: onlyFrom(process.env.BENCH_ONLY),
    redisUrl: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    postgresUrl: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432',
    database: process.env.BENCH_DATABASE ?? 'webhook_router_bench',
    ingest: {
      durationS: numberFrom('BENCH_DURATION_S', 15),
      warmupS: numberFrom('BENCH_WARMUP_S', 3),
      connections: numberFrom('BENCH_CONNECTIONS', 50),
      rounds: numberFrom('BENCH_ROUNDS', 2),
    },
    e2e: {
      events: numberFrom('BENCH_E2E_EVENTS', 3000),
      concurrency: numberFrom('BENCH_E2E_CONCURRENCY', 50),
      stallTimeoutS: numberFrom('BENCH_E2E_STALL_S', 30),
      visitors: process.env.BENCH_E2E_VISITORS === 'known' ? 'known' : 'new',
      warm: process.env.BENCH_E2E_WARM !== '0' || process.env.BENCH_E2E_VISITORS === 'known',
      drain: process.env.BENCH_E2E_DRAIN !== '0',
    },
    ordering: {
      events: numberFrom('BENCH_ORDERING_EVENTS', 10_000),
      conversations: numberFrom('BENCH_ORDERING_CONVERSATIONS', 1000),
      hotEvents: numberFrom('BENCH_ORDERING_HOT_EVENTS', 300),
      hotSinkDelayMs: numberFrom('BENCH_ORDERING_HOT_SINK_MS', 20),
    },
    soak: {
      minutes: numberFrom('BENCH_SOAK_MINUTES', 10),
      ratePerSecond: numberFrom('BENCH_SOAK_RATE', 100),
      warmupS: numberFrom('BENCH_SOAK_WARMUP_S', 30),
      sampleEveryS: numberFrom('BENCH_SOAK_SAMPLE_S', 10),
    },
    conversations: { count: numberFrom('BENCH_CONVERSATIONS', 100_000) },
    actions: {
      conversations: numberFrom('BENCH_ACTIONS_CONVERSATIONS', 100),
      perConversation: numberFrom('BENCH_ACTIONS_PER_CONVERSATION', 5),
    },
    latency: {
      ratePerSecond: numberFrom('BENCH_LATENCY_RATE', 100),
      seconds: numberFrom('BENCH_LATENCY_S', 20),
      warmupS: numberFrom('BENCH_LATENCY_WARMUP_S', 3),
    },
    cpuProfileApi: process.env.BENCH_CPU_PROFILE === 'api',
    cpuProfileWorker: process.env.BENCH_CPU_PROFILE === 'worker',
  };
}
