import { roundsByDistinctKey } from './batching';

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
