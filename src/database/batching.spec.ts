import { batchPerTurn, roundsByDistinctKey } from './batching';

describe('roundsByDistinctKey', () => {
  it('keeps a batch without repeated keys whole', () => {
    expect(roundsByDistinctKey(['a', 'b', 'c'], (key) => key)).toEqual([['a', 'b', 'c']]);
  });

  it('puts repeated keys in later rounds, in their order, and fills earlier rounds first', () => {
    const items = ['a1', 'b1', 'a2', 'c1', 'a3', 'b2'];
    expect(roundsByDistinctKey(items, (item) => item[0])).toEqual([
      ['a1', 'b1', 'c1'],
      ['a2', 'b2'],
      ['a3'],
    ]);
  });

  it('never puts an item before an earlier item of its key', () => {
    const items = ['a1', 'a2', 'b1', 'a3', 'b2', 'c1'];
    const rounds = roundsByDistinctKey(items, (item) => item[0]);
    const roundOf = (item: string) => rounds.findIndex((round) => round.includes(item));
    expect(roundOf('a1')).toBeLessThan(roundOf('a2'));
    expect(roundOf('a2')).toBeLessThan(roundOf('a3'));
    expect(roundOf('b1')).toBeLessThan(roundOf('b2'));
    expect(rounds.flat().sort()).toEqual([...items].sort());
  });

  it('answers no rounds for no items', () => {
    expect(roundsByDistinctKey([], String)).toEqual([]);
  });
});

describe('batchPerTurn', () => {
  it('makes one call for what is asked within a turn, and a new one in the next turn', async () => {
    const calls: number[][] = [];
    const loader = batchPerTurn<number, number>(async (keys) => {
      calls.push([...keys]);
      return keys.map((key) => key * 10);
    }, 100);
    expect(await Promise.all([1, 2, 2, 3].map((key) => loader.load(key)))).toEqual([
      10, 20, 20, 30,
    ]);
    expect(await loader.load(4)).toBe(40);
    expect(calls).toEqual([[1, 2, 2, 3], [4]]);
  });

  it('splits at the largest batch, and rejects the callers of a failed batch only', async () => {
    const loader = batchPerTurn<number, number>(async (keys) => {
      if (keys.includes(3)) throw new Error('boom');
      return [...keys];
    }, 2);
    const results = await Promise.allSettled([1, 2, 3, 4].map((key) => loader.load(key)));
    expect(results.map((result) => result.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'rejected',
    ]);
  });
});
