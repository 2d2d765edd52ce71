import { CanonicalEventBody } from './canonical-event';

/**
 * How deep a canonical event may nest, counting its own braces as level 1. Normalizers copy
 * free-form source objects (attributes, extensions) into the event; one nested thousands deep
 * would overflow the stack of everything recursive that reads the event after (JSON.stringify,
 * sift filters, JSONata). No source documents anything near this deep.
 */
export const CANONICAL_MAX_DEPTH = 32;

/** At most this many cut paths are listed; `count` says how many there were. */
const LISTED_CUTS = 10;
/** A path segment (a key the sender chose) is shortened to this many characters in the list. */
const SEGMENT_CHARS = 64;

/** What `extensions.router.depthCut` says when values were cut. */
export interface DepthCut {
  maxDepth: number;
  count: number;
  /** Dotted paths (array indexes as numbers) of the values replaced by null, the first few. */
  paths: string[];
}

/**
 * The body with every object or array nested deeper than `maxDepth` replaced by null, and
 * `extensions.router.depthCut` saying where. Unchanged (the same object) when nothing is too deep.
 */
export function boundEventDepth(
  body: CanonicalEventBody,
  maxDepth = CANONICAL_MAX_DEPTH,
): CanonicalEventBody {
  // Events are almost never too deep: a read-only pass first, and the copying one only if so.
  if (!deeperThan(body, maxDepth, 1)) return body;
  const cuts: PathStep[] = [];
  const bounded = cutDeeperThan(body, maxDepth, 1, null, cuts) as CanonicalEventBody;
  if (cuts.length === 0) return body;
  const depthCut: DepthCut = {
    maxDepth,
    count: cuts.length,
    paths: cuts.slice(0, LISTED_CUTS).map(dottedPath),
  };
  return { ...bounded, extensions: { ...bounded.extensions, router: { depthCut } } };
}

/**
 * Whether `value` (at `level`) holds an object or array deeper than `maxDepth`, visiting what
 * `cutDeeperThan` visits (array items, own enumerable keys) without copying; recurses at most
 * `maxDepth + 1` calls deep.
 */
function deeperThan(value: unknown, maxDepth: number, level: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (level > maxDepth) return true;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      if (deeperThan(value[index], maxDepth, level + 1)) return true;
    }
    return false;
  }
  const keys = Object.keys(value);
  for (let index = 0; index < keys.length; index++) {
    if (deeperThan((value as Record<string, unknown>)[keys[index]], maxDepth, level + 1))
      return true;
  }
  return false;
}

/** A path as a linked list from the leaf up, so walking costs nothing until a cut is named. */
interface PathStep {
  up: PathStep | null;
  key: string | number;
}

/** Copy-on-write: recurses at most `maxDepth + 1` calls deep, whatever the input's depth. */
function cutDeeperThan(
  value: unknown,
  maxDepth: number,
  level: number,
  at: PathStep | null,
  cuts: PathStep[],
): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (level > maxDepth) {
    if (at) cuts.push(at);
    return null;
  }
  const entries = Array.isArray(value) ? [...value.entries()] : Object.entries(value);
  let changed = false;
  const bounded = entries.map(([key, item]) => {
    const kept = cutDeeperThan(item, maxDepth, level + 1, { up: at, key }, cuts);
    changed ||= kept !== item;
    return [key, kept] as const;
  });
  if (!changed) return value;
  return Array.isArray(value)
    ? bounded.map(([, item]) => item)
    : Object.fromEntries(bounded.map(([key, item]) => [String(key), item]));
}

function dottedPath(leaf: PathStep): string {
  const segments: string[] = [];
  for (let step: PathStep | null = leaf; step; step = step.up) segments.push(segment(step.key));
  return segments.reverse().join('.');
}

function segment(key: string | number): string {
  const text = String(key);
  return text.length > SEGMENT_CHARS ? `${text.slice(0, SEGMENT_CHARS)}…` : text;
}

/**
 * Whether a value (parsed JSON) nests deeper than `limit` levels. Walks with a stack of its own,
 * so a value nested a million deep is measured without recursion.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: { value: unknown; level: number }[] = [{ value, level: 1 }];
  while (pending.length > 0) {
    const { value: current, level } = pending.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (level > limit) return true;
    for (const item of Object.values(current)) pending.push({ value: item, level: level + 1 });
  }
  return false;
}
