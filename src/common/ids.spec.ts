import { newId } from './ids';

describe('newId', () => {
  it('makes prefixed ULIDs that are unique and sort in creation order', () => {
    const ids = Array.from({ length: 5000 }, () => newId('evt'));
    for (const id of ids) expect(id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('draws the random part afresh each millisecond', async () => {
    const randomParts = new Set<string>();
    for (let i = 0; i < 20; i += 1) {
      randomParts.add(newId('dlv').slice(4 + 10));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(randomParts.size).toBe(20);
  });
});
