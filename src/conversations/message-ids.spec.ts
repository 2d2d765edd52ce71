import { MAX_LAYERS, MessageIds, withAllIds } from './message-ids';

describe('withAllIds', () => {
  it('answers the same object when nothing is new, and null stays unknown', () => {
    const ids = new Set(['m1', 'm2']);
    expect(withAllIds(ids, ['m2', 'm1'])).toBe(ids);
    expect(withAllIds(null, ['m1'])).toBeNull();
  });

  it('knows every id of every version and never changes an earlier one', () => {
    const base = new Set(['m0']);
    const versions: MessageIds[] = [base];
    for (let n = 1; n <= 3 * MAX_LAYERS + 2; n++) {
      versions.push(withAllIds(versions[n - 1], [`m${n}`, `m${n - 1}`, `m${n}`])!);
    }
    versions.forEach((ids, version) => {
      expect(ids.size).toBe(version + 1);
      for (let n = 0; n <= 3 * MAX_LAYERS + 2; n++) expect(ids.has(`m${n}`)).toBe(n <= version);
    });
    expect([...base]).toEqual(['m0']);
  });

  it('copies its layers into one set once they are more than MAX_LAYERS deep', () => {
    let ids: MessageIds = new Set<string>();
    const kinds: boolean[] = [];
    for (let n = 1; n <= MAX_LAYERS + 1; n++) {
      ids = withAllIds(ids, [`m${n}`])!;
      kinds.push(ids instanceof Set);
    }
    expect(kinds).toEqual([...Array<boolean>(MAX_LAYERS).fill(false), true]);
    expect([...(ids as Set<string>)].sort()).toEqual(
      Array.from({ length: MAX_LAYERS + 1 }, (_, index) => `m${index + 1}`).sort(),
    );
  });
});
