export interface IndexedSubscription<T> {
  id: string;
  eventTypes: string[];
  sourceIds: string[] | null;
  /** Optional content predicate on the canonical event; absent = accept all. */
  matchesContent?: (event: unknown) => boolean;
  value: T;
}

export interface SubscriptionIndexOptions {
  /** Most event types whose candidates are kept; the memo is cleared when it is full. */
  maxMemoizedTypes?: number;
}

export const DEFAULT_MAX_MEMOIZED_TYPES = 1_000;

type ContentPredicate = (event: unknown) => boolean;

interface Entry<T> {
  /** Position in id order: lists kept in ordinal order are in id order. */
  ordinal: number;
  sourceIds: ReadonlySet<string> | null;
  matchesContent?: ContentPredicate;
  value: T;
}

/** One node per pattern prefix; `*` segments go to `wildcard`, never into `literal`. */
interface PatternNode {
  literal: Map<string, PatternNode>;
  wildcard: PatternNode | null;
  ordinals: number[];
}

/** Parallel arrays in id order; `filtered` false: no predicate, the values are the answer. */
interface Candidates<T> {
  ordinals: number[];
  values: T[];
  predicates: (ContentPredicate | undefined)[];
  filtered: boolean;
}

/** A type's candidates: those taking any source, and per source those restricted to it. */
interface TypeCandidates<T> {
  anySource: Candidates<T>;
  bySource: Map<string, Candidates<T>>;
}

/**
 * Immutable lookup of the subscriptions wanting an event. Patterns sit in a segment trie (a lone
 * `*` in its own list), so resolving a type walks its segments, not the subscriptions. The result
 * is memoized per type, split into any-source candidates and per-source restricted ones, so an
 * event costs two map lookups plus a pass over its candidates, where content predicates run.
 * Memoizing per type rather than per (type, sourceId) keeps memory at one entry per subscription
 * and type: merged per-source lists would copy the any-source list for every source.
 */
export class SubscriptionIndex<T> {
  private readonly entries: Entry<T>[];
  private readonly root = newNode();
  private readonly matchAll: number[] = [];
  private readonly maxMemoizedTypes: number;
  private readonly memo = new Map<string, TypeCandidates<T>>();

  constructor(subscriptions: IndexedSubscription<T>[], options: SubscriptionIndexOptions = {}) {
    this.maxMemoizedTypes = Math.max(1, options.maxMemoizedTypes ?? DEFAULT_MAX_MEMOIZED_TYPES);
    const ordered = [...subscriptions].sort(compareIds);
    this.entries = ordered.map((subscription, ordinal) => ({
      ordinal,
      sourceIds: subscription.sourceIds === null ? null : new Set(subscription.sourceIds),
      matchesContent: subscription.matchesContent,
      value: subscription.value,
    }));
    ordered.forEach((subscription, ordinal) => {
      for (const pattern of new Set(subscription.eventTypes)) {
        if (pattern === '*') this.matchAll.push(ordinal);
        else this.insert(pattern, ordinal);
      }
    });
  }

  get size(): number {
    return this.entries.length;
  }

  /** Subscriptions wanting this event, in a stable order (by id ascending). */
  match(event: { type: string; sourceId: string }, content?: unknown): T[] {
    const { anySource, bySource } = this.candidates(event.type);
    const restricted = bySource.get(event.sourceId);
    if (!restricted) return select(anySource, content);
    if (anySource.values.length === 0) return select(restricted, content);
    return mergeSelect(anySource, restricted, content);
  }

  private insert(pattern: string, ordinal: number): void {
    let node = this.root;
    for (const segment of pattern.split('.')) {
      if (segment === '*') {
        node.wildcard ??= newNode();
        node = node.wildcard;
      } else {
        let next = node.literal.get(segment);
        if (!next) node.literal.set(segment, (next = newNode()));
        node = next;
      }
    }
    node.ordinals.push(ordinal);
  }

  private candidates(type: string): TypeCandidates<T> {
    const cached = this.memo.get(type);
    if (cached) return cached;
    if (this.memo.size >= this.maxMemoizedTypes) this.memo.clear();

    const found = new Set(this.matchAll);
    collect(this.root, type.split('.'), 0, found);
    const anySource = emptyCandidates<T>();
    const bySource = new Map<string, Candidates<T>>();
    for (const ordinal of [...found].sort((a, b) => a - b)) {
      const entry = this.entries[ordinal];
      if (entry.sourceIds === null) {
        append(anySource, entry);
        continue;
      }
      for (const sourceId of entry.sourceIds) {
        let forSource = bySource.get(sourceId);
        if (!forSource) bySource.set(sourceId, (forSource = emptyCandidates()));
        append(forSource, entry);
      }
    }
    const candidates = { anySource, bySource };
    this.memo.set(type, candidates);
    return candidates;
  }
}

function newNode(): PatternNode {
  return { literal: new Map(), wildcard: null, ordinals: [] };
}

function compareIds(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function collect(node: PatternNode, segments: string[], depth: number, found: Set<number>): void {
  if (depth === segments.length) {
    for (const ordinal of node.ordinals) found.add(ordinal);
    return;
  }
  const literal = node.literal.get(segments[depth]);
  if (literal) collect(literal, segments, depth + 1, found);
  if (node.wildcard) collect(node.wildcard, segments, depth + 1, found);
}

function emptyCandidates<T>(): Candidates<T> {
  return { ordinals: [], values: [], predicates: [], filtered: false };
}

function append<T>(candidates: Candidates<T>, entry: Entry<T>): void {
  candidates.ordinals.push(entry.ordinal);
  candidates.values.push(entry.value);
  candidates.predicates.push(entry.matchesContent);
  if (entry.matchesContent) candidates.filtered = true;
}

function select<T>({ values, predicates, filtered }: Candidates<T>, content: unknown): T[] {
  const matched = values.slice();
  if (!filtered) return matched;
  let kept = 0;
  for (let i = 0; i < values.length; i++) {
    const predicate = predicates[i];
    if (predicate === undefined || predicate(content)) matched[kept++] = values[i];
  }
  matched.length = kept;
  return matched;
}

/** Both lists are in id order, so merging them by ordinal keeps the answer in id order. */
function mergeSelect<T>(a: Candidates<T>, b: Candidates<T>, content: unknown): T[] {
  const matched: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.values.length || j < b.values.length) {
    const fromA = j === b.values.length || (i < a.values.length && a.ordinals[i] < b.ordinals[j]);
    const from = fromA ? a : b;
    const k = fromA ? i++ : j++;
    const predicate = from.predicates[k];
    if (predicate === undefined || predicate(content)) matched.push(from.values[k]);
  }
  return matched;
}
