import { createHash } from 'node:crypto';
import { decodeTime } from 'ulid';
import { derivedId, newId } from './ids';

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

describe('derivedId', () => {
  const at = new Date('2026-04-16T14:05:11.000Z');
  const digest = (text: string) => createHash('sha256').update(text).digest();

  it('is the same for the same time and digest, and sorts by the time', () => {
    const id = derivedId('evt', at, digest('a'));
    expect(id).toMatch(/^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(derivedId('evt', at, digest('a'))).toBe(id);
    expect(decodeTime(id.slice(4))).toBe(at.getTime());
    expect(derivedId('evt', new Date(at.getTime() + 1), digest('a')) > id).toBe(true);
  });

  it('differs with the digest', () => {
    const ids = new Set(
      Array.from({ length: 1000 }, (_, i) => derivedId('evt', at, digest(`${i}`))),
    );
    expect(ids.size).toBe(1000);
  });
});
