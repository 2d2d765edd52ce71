import { keptIfSame, sameValue } from './same-value';

describe('sameValue', () => {
  it('holds for equal JSON values, whatever objects hold them', () => {
    expect(sameValue({ a: [1, { b: 'x' }], c: null }, { a: [1, { b: 'x' }], c: null })).toBe(true);
    expect(sameValue('text', 'text')).toBe(true);
    expect(sameValue([], [])).toBe(true);
  });

  it('holds whatever the order of keys (jsonb ignores it)', () => {
    expect(sameValue({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 })).toBe(true);
  });

  it('fails for any difference in keys or values', () => {
    expect(sameValue({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(sameValue({ a: 1, b: undefined }, { a: 1 })).toBe(false);
    expect(sameValue({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe(false);
    expect(sameValue({ a: undefined }, { b: undefined })).toBe(false);
    expect(sameValue([1, 2], [1, 2, 3])).toBe(false);
    expect(sameValue({ 0: 'a' }, ['a'])).toBe(false);
    expect(sameValue(null, {})).toBe(false);
    expect(sameValue(1, '1')).toBe(false);
    expect(sameValue({ a: { b: [1] } }, { a: { b: [2] } })).toBe(false);
  });

  it('compares no objects but plain ones and arrays by value', () => {
    expect(sameValue(new Date(0), new Date(1))).toBe(false);
    expect(sameValue(new Map([[1, 1]]), new Map())).toBe(false);
  });
});

describe('keptIfSame', () => {
  it('keeps the held object when the next is equal, else takes the next', () => {
    const held = { externalId: '1', name: 'Ana' };
    expect(keptIfSame(held, { externalId: '1', name: 'Ana' })).toBe(held);
    const next = { externalId: '1', name: 'Bia' };
    expect(keptIfSame(held, next)).toBe(next);
  });
});
