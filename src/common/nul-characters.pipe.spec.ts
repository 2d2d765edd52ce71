import { AppError } from './app-error';
import { fieldsWithNul, NulCharactersPipe } from './nul-characters.pipe';

describe('fieldsWithNul', () => {
  it('names every string holding U+0000 by its dotted path, keys included', () => {
    expect(
      fieldsWithNul({
        name: 'a\u0000',
        headers: { ok: 'fine', 'X-Token': '\u0000' },
        list: ['x', 'y\u0000'],
        ['bad\u0000key']: 1,
      }),
    ).toEqual(['name', 'headers.X-Token', 'list.1', 'bad\\u0000key']);
    expect(fieldsWithNul({ name: 'ok', n: 1, list: [null, true] })).toEqual([]);
    expect(fieldsWithNul('\u0000', 'id')).toEqual(['id']);
  });

  it('walks a deeply nested body without recursion', () => {
    let deep: unknown = 'bottom\u0000';
    for (let level = 0; level < 200_000; level++) deep = [deep];
    expect(fieldsWithNul(deep)).toHaveLength(1);
  });
});

describe('NulCharactersPipe', () => {
  const pipe = new NulCharactersPipe();

  it('answers validation_failed naming the field, route parameters by their name', () => {
    const refusal = (() => {
      try {
        pipe.transform('sub_\u0000', { type: 'param', data: 'id' });
      } catch (error) {
        return error as AppError;
      }
    })();
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({
      code: 'validation_failed',
      message: 'Invalid fields: id',
      details: [{ field: 'id', problems: [expect.stringContaining('NUL')] }],
    });
  });

  it('passes everything else through as it is', () => {
    const body = { name: 'fine' };
    expect(pipe.transform(body, { type: 'body' })).toBe(body);
    expect(pipe.transform('\u0000', { type: 'custom' })).toBe('\u0000');
  });
});
