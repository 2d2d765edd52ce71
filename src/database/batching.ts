import DataLoader from 'dataloader';

/**
 * A DataLoader that gathers what callers ask for within one turn of the event loop (until
 * setImmediate) into one call of `batch`, at most `maxBatchSize` at a time, caching nothing:
 * concurrent jobs then share one statement or one Redis call instead of making one each.
 */
export function batchPerTurn<K, V>(
  batch: (keys: readonly K[]) => Promise<(V | Error)[]>,
  maxBatchSize: number,
): DataLoader<K, V> {
  return new DataLoader<K, V>(batch, {
    cache: false,
    maxBatchSize,
    batchScheduleFn: (run) => setImmediate(run),
  });
}

/**
 * Splits a batch into rounds in which no key repeats, keeping the order of items with the same
 * key: rows a single statement must not touch twice (a delivery's attempts, an event inserted by
 * a job and by its retry) go in successive statements.
 */
export function roundsByDistinctKey<T>(items: readonly T[], keyOf: (item: T) => string): T[][] {
  const rounds: T[][] = [];
  const seenIn: Set<string>[] = [];
  for (const item of items) {
    const key = keyOf(item);
    let index = 0;
    // After the last round holding this key, so the key's items stay in order.
    for (let round = seenIn.length - 1; round >= 0; round--) {
      if (seenIn[round].has(key)) {
        index = round + 1;
        break;
      }
    }
    if (index === rounds.length) {
      rounds.push([]);
      seenIn.push(new Set());
    }
    rounds[index].push(item);
    seenIn[index].add(key);
  }
  return rounds;
}
