import { asId, asString, toE164, toIsoTime } from './coerce';

describe('toIsoTime', () => {
  it.each([
    [1776348340, '2026-04-16T14:05:40.000Z'],
    ['1776348340', '2026-04-16T14:05:40.000Z'],
    [1776348340.997031, '2026-04-16T14:05:40.997Z'],
    [1776348340997, '2026-04-16T14:05:40.997Z'],
    ['2026-04-16T14:05:40.913Z', '2026-04-16T14:05:40.913Z'],
    ['2026-04-16T11:05:40.913-03:00', '2026-04-16T14:05:40.913Z'],
    ['Thu Apr 16 2026 11:05:10 GMT-0300 (Brasilia Standard Time)', '2026-04-16T14:05:10.000Z'],
    ['2020-03-03 13:05:57 UTC', '2020-03-03T13:05:57.000Z'],
    ['2026-04-16T14:05:11', '2026-04-16T14:05:11.000Z'],
  ])('reads %p', (input, expected) => {
    expect(toIsoTime(input)).toBe(expected);
  });

  it.each([[0], [null], [undefined], [''], ['soon'], [{}], [[]], [NaN], [Infinity], [-5]])(
    'answers null for %p',
    (input) => {
      expect(toIsoTime(input)).toBeNull();
    },
  );
});

describe('asId', () => {
  it('stringifies numbers and trims strings', () => {
    expect(asId(7636)).toBe('7636');
    expect(asId(' 2016 ')).toBe('2016');
    expect(asId('')).toBeNull();
    expect(asId({ id: 1 })).toBeNull();
  });
});

describe('asString', () => {
  it('treats empty strings and objects as missing', () => {
    expect(asString('')).toBeNull();
    expect(asString({})).toBeNull();
    expect(asString(3)).toBe('3');
  });
});

describe('toE164', () => {
  it('normalizes international numbers and refuses junk', () => {
    expect(toE164('+1 (408) 498-7855')).toBe('+14084987855');
    expect(toE164('8 (912) 345-67-89', 'RU')).toBe('+79123456789');
    expect(toE164('call me')).toBeNull();
    expect(toE164(null)).toBeNull();
  });

  it('answers the same when asked again, per default country', () => {
    for (let round = 0; round < 2; round++) {
      expect(toE164('(408) 498-7855', 'US')).toBe('+14084987855');
      expect(toE164('(408) 498-7855')).toBeNull();
      expect(toE164('8 (912) 345-67-89', 'RU')).toBe('+79123456789');
      expect(toE164('8 (912) 345-67-89', 'US')).toBeNull();
    }
  });

  it('keeps answering right past the memo size', () => {
    for (let index = 0; index < 2500; index++) {
      const local = String(4_980_000 + index);
      expect(toE164(`+1408${local}`)).toBe(`+1408${local}`);
    }
    expect(toE164('+1 (408) 498-7855')).toBe('+14084987855');
  });
});
