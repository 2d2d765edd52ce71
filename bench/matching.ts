/**
 * Subscription matching: SubscriptionIndex against a full scan per event, over realistic
 * subscription sets. Build with `npx tsc -p bench/tsconfig.json`, run with
 * `node bench/dist/bench/matching.js`; prints a table and writes bench/results/matching.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CANONICAL_EVENT_TYPES } from '../src/canonical/canonical-event';
import { eventTypeMatches } from '../src/policies/event-type-pattern';
import { IndexedSubscription, SubscriptionIndex } from '../src/routing/subscription-index';

const SEED = 20240601;
const SUBSCRIPTION_COUNTS = [10, 1_000, 10_000];
const SOURCE_COUNT = 200;
const EVENT_COUNT = 200_000;
const WARMUP_EVENTS = 20_000;
/** Events per timed batch: one hrtime pair per batch keeps timer overhead under ~1 ns/event. */
const BATCH = 32;
/** The full scan is slow on large sets: it stops after this budget, once it has MIN_SCANNED events. */
const NAIVE_BUDGET_MS = 3_000;
const MIN_SCANNED = 2_000;
const CHECKED_EVENTS = 500;
const RESULTS_FILE = join(__dirname, '..', '..', 'results', 'matching.json');

interface BenchEvent {
  type: string;
  sourceId: string;
  content: BenchContent;
}

interface BenchContent {
  type: string;
  conversation: { channel: { type: string }; labels: string[] } | null;
  message: { direction: 'inbound' | 'outbound' } | null;
}

type Subscription = IndexedSubscription<string>;

interface Timing {
  events: number;
  meanNs: number;
  p50Us: number;
  p99Us: number;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = mulberry32(SEED);

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function pickWeighted<T>(weighted: readonly (readonly [T, number])[]): T {
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [item, weight] of weighted) {
    roll -= weight;
    if (roll < 0) return item;
  }
  return weighted[weighted.length - 1][0];
}

const SOURCES = Array.from(
  { length: SOURCE_COUNT },
  (_, i) => `src_01J${i.toString(36).toUpperCase().padStart(4, '0')}`,
);
/** A few busy sources and a long tail, as in a multi-tenant deployment. */
const SOURCE_WEIGHTS = SOURCES.map((source, i) => [source, 1 / (i + 1) ** 0.8] as const);

const TYPE_WEIGHTS: Record<string, number> = {
  'message.created': 40,
  'message.updated': 8,
  'conversation.created': 6,
  'conversation.accepted': 5,
  'conversation.updated': 8,
  'conversation.status_changed': 5,
  'conversation.ended': 5,
  'conversation.typing_started': 4,
  'conversation.typing_stopped': 4,
  'contact.updated': 4,
};
const EVENT_TYPE_WEIGHTS = CANONICAL_EVENT_TYPES.map(
  (type) => [type, TYPE_WEIGHTS[type] ?? 1] as const,
);
const PREFIXES = [...new Set(CANONICAL_EVENT_TYPES.map((type) => type.split('.')[0]))];
const CHANNEL_WEIGHTS = [
  ['web_widget', 40],
  ['whatsapp', 25],
  ['telegram', 20],
  ['instagram', 10],
  ['email', 5],
] as const;

const PREDICATES: ((event: unknown) => boolean)[] = [
  ...['whatsapp', 'telegram', 'web_widget'].map(
    (channel) => (event: unknown) =>
      (event as BenchContent).conversation?.channel?.type === channel,
  ),
  (event) => (event as BenchContent).message?.direction === 'inbound',
  (event) => (event as BenchContent).conversation?.labels.includes('vip') ?? false,
];

function randomEventTypes(): string[] {
  const kind = random();
  if (kind < 0.4) {
    return Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(CANONICAL_EVENT_TYPES));
  }
  if (kind < 0.7) return [`${pick(PREFIXES)}.*`];
  if (kind < 0.75) return ['*'];
  if (kind < 0.9) return [`*.${pick(['created', 'updated', 'ended'])}`];
  return ['message.*', 'conversation.ended'];
}

function buildSubscriptions(count: number): Subscription[] {
  return Array.from({ length: count }, (_, i) => {
    const id = `sub_${Math.floor(random() * 36 ** 8).toString(36)}_${i}`;
    const sourceIds =
      random() < 0.25
        ? Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(SOURCES))
        : null;
    const matchesContent = random() < 0.3 ? pick(PREDICATES) : undefined;
    return { id, eventTypes: randomEventTypes(), sourceIds, matchesContent, value: id };
  });
}

function buildEvents(count: number): BenchEvent[] {
  return Array.from({ length: count }, () => {
    const type = pickWeighted(EVENT_TYPE_WEIGHTS);
    const inConversation = type.startsWith('conversation.') || type.startsWith('message.');
    const content: BenchContent = {
      type,
      conversation: inConversation
        ? {
            channel: { type: pickWeighted(CHANNEL_WEIGHTS) },
            labels: random() < 0.1 ? ['vip'] : [],
          }
        : null,
      message: type.startsWith('message.')
        ? { direction: random() < 0.6 ? 'inbound' : 'outbound' }
        : null,
    };
    return { type, sourceId: pickWeighted(SOURCE_WEIGHTS), content };
  });
}

/** What the matcher does today once the rows are loaded: every subscription, every event. */
function naiveMatch(sorted: Subscription[], event: BenchEvent): string[] {
  const matched: string[] = [];
  for (const subscription of sorted) {
    if (subscription.sourceIds && !subscription.sourceIds.includes(event.sourceId)) continue;
    if (!subscription.eventTypes.some((pattern) => eventTypeMatches(pattern, event.type))) continue;
    if (subscription.matchesContent && !subscription.matchesContent(event.content)) continue;
    matched.push(subscription.value);
  }
  return matched;
}

function percentile(sorted: Float64Array, fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/** Times `run` over events in batches; percentiles are over per-event means of each batch. */
function time(
  events: BenchEvent[],
  run: (event: BenchEvent) => number,
  budgetMs = Infinity,
  minEvents = MIN_SCANNED,
): Timing & { matched: number } {
  const samples: number[] = [];
  let totalNs = 0n;
  let matched = 0;
  let measured = 0;
  const started = process.hrtime.bigint();
  for (let start = 0; start + BATCH <= events.length; start += BATCH) {
    const t0 = process.hrtime.bigint();
    for (let i = start; i < start + BATCH; i++) matched += run(events[i]);
    const elapsed = process.hrtime.bigint() - t0;
    totalNs += elapsed;
    samples.push(Number(elapsed) / BATCH);
    measured += BATCH;
    const spentMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (measured >= minEvents && spentMs > budgetMs) break;
  }
  const sorted = Float64Array.from(samples).sort();
  return {
    events: measured,
    meanNs: Number(totalNs) / measured,
    p50Us: percentile(sorted, 0.5) / 1000,
    p99Us: percentile(sorted, 0.99) / 1000,
    matched,
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measureBuild(subscriptions: Subscription[]): number {
  const runs = Math.max(5, Math.min(200, Math.floor(200_000 / subscriptions.length)));
  const durations: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t0 = process.hrtime.bigint();
    new SubscriptionIndex(subscriptions);
    durations.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(durations);
}

function checkAgreement(
  index: SubscriptionIndex<string>,
  sorted: Subscription[],
  events: BenchEvent[],
) {
  for (const event of events.slice(0, CHECKED_EVENTS)) {
    const fromIndex = index.match(event, event.content).join();
    if (fromIndex !== naiveMatch(sorted, event).join()) {
      throw new Error(`Index and full scan disagree on ${event.type} from ${event.sourceId}`);
    }
  }
}

function main(): void {
  const events = buildEvents(EVENT_COUNT);
  const warmup = buildEvents(WARMUP_EVENTS);
  const results = SUBSCRIPTION_COUNTS.map((count) => {
    const subscriptions = buildSubscriptions(count);
    const sorted = [...subscriptions].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const buildMs = measureBuild(subscriptions);
    const index = new SubscriptionIndex(subscriptions);
    checkAgreement(index, sorted, events);

    const matchIndex = (event: BenchEvent) => index.match(event, event.content).length;
    const matchNaive = (event: BenchEvent) => naiveMatch(sorted, event).length;
    time(warmup, matchIndex);
    time(warmup, matchNaive, 500, BATCH);
    const { matched, ...indexed } = time(events, matchIndex);
    const { matched: _, ...naive } = time(events, matchNaive, NAIVE_BUDGET_MS);
    return {
      subscriptions: count,
      buildMs,
      matchesPerEvent: matched / indexed.events,
      index: indexed,
      naive,
      speedup: naive.meanNs / indexed.meanNs,
    };
  });

  const header = [
    'subs',
    'build ms',
    'matches/ev',
    'index ns/op',
    'p50 µs',
    'p99 µs',
    'scan ns/op',
    'p50 µs',
    'p99 µs',
    'scan events',
    'speedup',
  ];
  const rows = results.map((r) => [
    String(r.subscriptions),
    r.buildMs.toFixed(3),
    r.matchesPerEvent.toFixed(1),
    r.index.meanNs.toFixed(0),
    r.index.p50Us.toFixed(3),
    r.index.p99Us.toFixed(3),
    r.naive.meanNs.toFixed(0),
    r.naive.p50Us.toFixed(3),
    r.naive.p99Us.toFixed(3),
    String(r.naive.events),
    `${r.speedup.toFixed(0)}x`,
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length)),
  );
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i])).join('  ');
  console.log(
    `Subscription matching, ${EVENT_COUNT} events over ${SOURCE_COUNT} sources (index memo warm), ` +
      `percentiles over ${BATCH}-event batches, node ${process.version}`,
  );
  console.log(line(header));
  for (const row of rows) console.log(line(row));

  mkdirSync(join(RESULTS_FILE, '..'), { recursive: true });
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    seed: SEED,
    events: EVENT_COUNT,
    sources: SOURCE_COUNT,
    batch: BATCH,
    results,
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`Wrote ${relative(process.cwd(), RESULTS_FILE)}`);
}

main();
