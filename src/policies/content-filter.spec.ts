import fc from 'fast-check';
import * as siftModule from 'sift';
import { CanonicalEvent } from '../canonical/canonical-event';
import { buildSampleEvent } from '../canonical/sample-event';
import { ContentFilter, compileContentFilter, contentFilterProblems } from './content-filter';

jest.mock('sift', () => {
  const actual = jest.requireActual('sift');
  return { ...actual, createQueryTester: jest.fn(actual.createQueryTester) };
});

/** A WhatsApp message from a returning customer on a gold plan. */
function messageEvent(): CanonicalEvent {
  const { canonical: event } = buildSampleEvent('evt_filter', 'message.created');
  event.conversation!.channel = { type: 'whatsapp', externalId: '7', name: 'WhatsApp Vendas' };
  event.conversation!.labels = ['vip', 'pedido-aberto'];
  event.conversation!.attributes = { plan: 'gold' };
  event.contact!.chatsCount = 3;
  event.message!.text = 'Olá, quero saber do meu PEDIDO 123';
  return event;
}

function telegramEvent(): CanonicalEvent {
  const event = messageEvent();
  event.conversation!.channel = { type: 'telegram', externalId: null, name: null };
  event.conversation!.labels = [];
  event.message!.text = 'bom dia';
  event.contact!.email = null;
  return event;
}

const matches = (filter: ContentFilter, event: unknown) => compileContentFilter(filter)(event);

describe('compileContentFilter', () => {
  it.each<[string, ContentFilter, boolean, boolean]>([
    ['channel type', { 'conversation.channel.type': 'whatsapp' }, true, false],
    [
      'case-insensitive $regex',
      { 'message.text': { $regex: 'pedido', $options: 'i' } },
      true,
      false,
    ],
    [
      '$or',
      {
        $or: [{ 'conversation.attributes.plan': 'gold' }, { 'message.text': 'nunca' }],
        'conversation.channel.type': { $ne: 'telegram' },
      },
      true,
      false,
    ],
    ['$in', { 'conversation.channel.type': { $in: ['whatsapp', 'instagram'] } }, true, false],
    ['$exists on a non-null value', { 'contact.email': { $exists: true, $ne: null } }, true, false],
    [
      '$elemMatch on labels',
      { 'conversation.labels': { $elemMatch: { $eq: 'vip' } } },
      true,
      false,
    ],
    ['label membership', { 'conversation.labels': 'pedido-aberto' }, true, false],
    ['$size', { 'conversation.labels': { $size: 2 } }, true, false],
    ['$type', { 'contact.email': { $type: 'string' } }, true, false],
    ['$not with $regex', { 'message.text': { $not: { $regex: '^bom' } } }, true, false],
    ['$gte on a number', { 'contact.chatsCount': { $gte: 2 } }, true, true],
  ])('%s', (_name, filter, onWhatsapp, onTelegram) => {
    expect(contentFilterProblems(filter)).toEqual([]);
    expect(matches(filter, messageEvent())).toBe(onWhatsapp);
    expect(matches(filter, telegramEvent())).toBe(onTelegram);
  });

  it('refuses to compile an invalid filter', () => {
    expect(() => compileContentFilter({ 'message.text': { $where: 'true' } })).toThrow(
      /invalid content filter: .*\$where/,
    );
  });

  it('does not match (rather than throw) on events it cannot evaluate', () => {
    const test = compileContentFilter({ 'message.text': 'x' });
    const hostile = {
      get message(): never {
        throw new Error('boom');
      },
    };
    expect(test(hostile)).toBe(false);

    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(test({ message: deep })).toBe(false);
  });

  const validFilters: ContentFilter[] = [
    { 'conversation.channel.type': 'whatsapp' },
    { 'message.text': { $regex: 'pedido', $options: 'i' } },
    { $or: [{ type: 'message.created' }, { 'contact.email': { $exists: false } }] },
    { $nor: [{ 'message.private': true }], 'conversation.labels': { $all: ['vip'] } },
    { 'conversation.labels': { $elemMatch: { $in: ['vip', 'lead'] } } },
    { 'contact.chatsCount': { $gt: 1, $lte: 10, $mod: [2, 1] } },
    { 'message.attachments': { $size: 0 }, 'message.sender.type': { $nin: ['bot', 'system'] } },
    { 'a.b.c': { $type: 'array' }, $and: [{ x: { $not: { $eq: 1 } } }] },
    { conversation: { status: 'open' } },
  ];

  // Arbitrary JSON, and JSON shaped like events where the filters' paths lead to arbitrary
  // values made of the strings, numbers and keys the filters look for.
  const near = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom('vip', 'lead', 'whatsapp', 'open', 'bot', 'message.created', 'Meu PEDIDO'),
      fc.string(),
      fc.integer({ min: -3, max: 12 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(
        fc.constantFrom('type', 'status', 'labels', 'text', 'chatsCount', 'private', 'b', 'c'),
        tie('value'),
        { maxKeys: 4 },
      ),
    ),
  })).value;
  const optional = { requiredKeys: [] as [] };
  const events = fc.oneof(
    fc.jsonValue(),
    fc.record(
      {
        type: near,
        conversation: fc.oneof(near, fc.record({ channel: near, labels: near }, optional)),
        contact: fc.oneof(near, fc.record({ email: near, chatsCount: near }, optional)),
        message: fc.oneof(
          near,
          fc.record({ text: near, private: near, attachments: near, sender: near }, optional),
        ),
        a: near,
        x: near,
      },
      optional,
    ),
  );

  it('never throws, whatever the event, and answers as plain sift would', () => {
    const sift = jest.requireActual<typeof siftModule>('sift').default;
    const cases = validFilters.map((filter) => {
      const reference = sift(filter);
      const expected = (event: unknown) => {
        try {
          return reference(event);
        } catch {
          return false; // e.g. $gt on a null-prototype object: sift throws
        }
      };
      return { test: compileContentFilter(filter), expected };
    });
    fc.assert(
      fc.property(events, (event) => {
        for (const { test, expected } of cases) expect(test(event)).toBe(expected(event));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('$regex on a linear-time engine', () => {
  const textEvent = (text: unknown) => ({ message: { text } });
  const regex = (pattern: string, $options?: string) =>
    compileContentFilter({ 'message.text': { $regex: pattern, ...($options && { $options }) } });

  it("never runs JavaScript's backtracking RegExp", () => {
    const pedido = regex('pedido', 'i');
    const catastrophic = regex('(a+)+$');
    const test = jest.spyOn(RegExp.prototype, 'test');
    const exec = jest.spyOn(RegExp.prototype, 'exec');
    try {
      expect(pedido(messageEvent())).toBe(true);
      expect(catastrophic(textEvent(`${'a'.repeat(24)}!`))).toBe(false);
      expect(test).not.toHaveBeenCalled();
      expect(exec).not.toHaveBeenCalled();
    } finally {
      test.mockRestore();
      exec.mockRestore();
    }
  });

  it.each([
    ['(a+)+$', `${'a'.repeat(32)}!`, false],
    ['(a+)+$', 'a'.repeat(32), true],
    ['^(\\w+\\s?)+$', `${'palavra '.repeat(5)}ok!`, false],
    ['^(\\w+\\s?)+$', 'quero saber do meu pedido', true],
  ])('answers %p on %p at once: %p', (pattern, text, expected) => {
    expect(regex(pattern)(textEvent(text))).toBe(expected);
  });

  it('keeps the documented options', () => {
    expect(regex('PEDIDO')(messageEvent())).toBe(true);
    expect(regex('pedido')(messageEvent())).toBe(false);
    expect(regex('pedido', 'i')(messageEvent())).toBe(true);
    expect(regex('^bom', '')(textEvent('oi\nbom dia'))).toBe(false);
    expect(regex('^bom', 'm')(textEvent('oi\nbom dia'))).toBe(true);
    expect(regex('oi.bom')(textEvent('oi\nbom dia'))).toBe(false);
    expect(regex('oi.bom', 's')(textEvent('oi\nbom dia'))).toBe(true);
    expect(regex('^\\p{L}+$', 'u')(textEvent('Olá'))).toBe(true);
    expect(regex('^\\u00e9$')(textEvent('é'))).toBe(true);
    expect(regex('^(?<year>\\d{4})-')(textEvent('2025-05-02'))).toBe(true);
  });

  it('tests strings only, and each element of an array', () => {
    const labels = compileContentFilter({ 'conversation.labels': { $regex: '^ped' } });
    expect(labels(messageEvent())).toBe(true);
    expect(labels(telegramEvent())).toBe(false);
    expect(regex('1')(textEvent(1))).toBe(false);
    expect(regex('null')(textEvent(null))).toBe(false);
  });

  it.each([
    ['(a)\\1', 'uses a backreference (\\1)'],
    ['(?<n>a)\\k<n>', 'uses a named backreference (\\k<…>)'],
    ['pedido(?= 123)', 'uses a lookahead ((?=…)'],
    ['pedido(?!s)', 'uses a negative lookahead ((?!…)'],
    ['(?<=meu )pedido', 'uses a lookbehind ((?<=…)'],
    ['(?<!seu )pedido', 'uses a negative lookbehind ((?<!…)'],
  ])('refuses %p when written, naming where', (pattern, construct) => {
    const filter = { $or: [{ 'message.text': { $regex: pattern } }] };
    expect(contentFilterProblems(filter)).toEqual([
      `filter $regex at $or[0].message.text.$regex ${construct}, which the linear-time regex engine cannot run`,
    ]);
    expect(() => compileContentFilter(filter)).toThrow(/invalid content filter/);
  });

  it('refuses what RE2 cannot parse, and patterns too costly for it', () => {
    expect(contentFilterProblems({ t: { $regex: 'a{1001}' } })).toEqual([
      'filter $regex at t.$regex is not supported by the linear-time regex engine: error parsing regexp: invalid repeat count: `{1001}`',
    ]);
    expect(contentFilterProblems({ t: { $regex: '[a-z]{2,400}' } })).toEqual([]);
    expect(contentFilterProblems({ t: { $regex: '\\p{L}{1,1000}\\d' } })).toEqual([
      'filter $regex at t.$regex is too complex for the linear-time regex engine (2002 instructions, at most 1000)',
    ]);
  });

  it('reads escapes and classes as JavaScript does', () => {
    for (const pattern of ['\\(?=x', '[(?=]', '[(?<!]x', '\\\\k', 'a\\\\1']) {
      expect(contentFilterProblems({ t: { $regex: pattern } })).toEqual([]);
    }
    expect(contentFilterProblems({ t: { $regex: '[x]\\1' } })).toHaveLength(1);
  });
});

describe('contentFilterProblems', () => {
  it('accepts a plain filter', () => {
    expect(contentFilterProblems({ 'conversation.channel.type': 'whatsapp' })).toEqual([]);
    expect(contentFilterProblems({})).toEqual([]);
  });

  it.each([null, [], 'x', 1, true, new Date(0), /x/])('refuses %p as a filter', (filter) => {
    expect(contentFilterProblems(filter)).toEqual(['filter must be a JSON object']);
  });

  it('refuses values that are not JSON', () => {
    expect(contentFilterProblems({ a: () => true })).toEqual(['filter has a non-JSON value at a']);
    expect(contentFilterProblems({ a: { $in: [1, /x/] } })).toEqual([
      'filter has a non-JSON value at a.$in[1]',
    ]);
    expect(contentFilterProblems({ a: Number.NaN })).toEqual(['filter has a non-JSON number at a']);
  });

  it('refuses a filter larger than 16 KiB of JSON', () => {
    expect(contentFilterProblems({ a: { $in: ['x'.repeat(16_000)] } })).toEqual([]);
    expect(contentFilterProblems({ a: { $in: ['é'.repeat(8_200)] } })).toEqual([
      expect.stringMatching(/^filter is 164\d\d bytes of JSON, more than the 16384 allowed$/),
    ]);
  });

  it('refuses nesting deeper than 20 levels', () => {
    const nest = (levels: number) => {
      let filter: Record<string, unknown> = { x: 1 };
      for (let i = 1; i < levels; i++) filter = { $and: [filter] };
      return filter;
    };
    // each { $and: [...] } is two levels: the object and its array
    expect(contentFilterProblems(nest(10))).toEqual([]);
    expect(contentFilterProblems(nest(11))).toEqual([
      expect.stringMatching(/^filter is nested deeper than 20 levels at \$and\[0\]/),
    ]);
  });

  it('names an unknown operator', () => {
    expect(contentFilterProblems({ 'message.text': { $foo: 1 } })).toEqual([
      'filter uses unsupported operator $foo',
    ]);
    expect(contentFilterProblems({ $text: { $search: 'x' } })).toEqual([
      'filter uses unsupported operator $text',
    ]);
  });

  it('reports what sift cannot compile', () => {
    expect(contentFilterProblems({ $or: [] })).toEqual([
      'filter does not compile: $and/$or/$nor must be a nonempty array',
    ]);
    expect(contentFilterProblems({ a: { $or: [{ b: 1 }] } })).toEqual([
      'filter does not compile: Malformed query. $or cannot be matched against property.',
    ]);
  });

  it.each(['$where', '$function', '$accumulator', '$expr'])('refuses %s', (operator) => {
    const problems = contentFilterProblems({ $or: [{ a: 1 }, { [operator]: 'return true' }] });
    expect(problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^filter uses \\${operator} at \\$or\\[1\\]\\.\\${operator}, which is refused: `,
        ),
      ),
    ]);
  });

  it('explains why $where is refused', () => {
    expect(contentFilterProblems({ $where: 'this.type === "message.created"' })).toEqual([
      'filter uses $where at $where, which is refused: it would run JavaScript taken from the filter',
    ]);
  });

  it('compiles with an allow-list that has no $where, so sift can never run one', () => {
    const createQueryTester = jest.mocked(siftModule.createQueryTester);
    createQueryTester.mockClear();
    compileContentFilter({ type: 'message.created' });
    expect(createQueryTester).toHaveBeenCalled();
    const actual = jest.requireActual<typeof siftModule>('sift');
    const spy = jest.fn(() => true);
    for (const [, options] of createQueryTester.mock.calls) {
      expect(Object.keys(options?.operations ?? {})).toContain('$regex');
      expect(() => actual.createQueryTester({ $where: spy }, options)).toThrow(
        'Unsupported operation: $where',
      );
    }
    expect(spy).not.toHaveBeenCalled();
  });

  it('checks $regex', () => {
    expect(contentFilterProblems({ t: { $regex: 1 } })).toEqual([
      'filter $regex at t.$regex must be a string',
    ]);
    expect(contentFilterProblems({ t: { $regex: 'a'.repeat(500) } })).toEqual([]);
    expect(contentFilterProblems({ t: { $regex: 'a'.repeat(501) } })).toEqual([
      'filter $regex at t.$regex is longer than 500 characters',
    ]);
    expect(contentFilterProblems({ t: { $regex: '(unclosed' } })).toEqual([
      expect.stringMatching(
        /^filter \$regex at t\.\$regex is not a valid regular expression: .*Unterminated group/,
      ),
    ]);
    expect(contentFilterProblems({ t: { $regex: '\\p{L}+', $options: 'u' } })).toEqual([]);
    expect(contentFilterProblems({ t: { $regex: '\\p{L', $options: 'u' } })).toEqual([
      expect.stringMatching(/^filter \$regex at t\.\$regex is not a valid regular expression/),
    ]);
  });

  it('checks $options', () => {
    expect(contentFilterProblems({ t: { $regex: 'a', $options: 'imsu' } })).toEqual([]);
    for (const options of ['g', 'y', 'x', 'ii', 1]) {
      expect(contentFilterProblems({ t: { $regex: 'a', $options: options } })).toEqual([
        'filter $options at t.$options may only hold the letters i, m, s and u, once each',
      ]);
    }
    expect(contentFilterProblems({ t: { $options: 'i' } })).toEqual([
      'filter $options at t.$options needs a $regex beside it',
    ]);
  });

  it('checks $type, which sift would otherwise fail on every event', () => {
    for (const type of ['object', 'timestamp', 2]) {
      expect(contentFilterProblems({ t: { $type: type } })).toEqual([
        'filter $type at t.$type must be one of number, string, bool, array, null',
      ]);
    }
  });

  it('reports every problem it finds', () => {
    expect(
      contentFilterProblems({ a: { $regex: 'a'.repeat(501) }, $or: [{ $where: 'true' }] }),
    ).toHaveLength(2);
  });

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.anything(), (filter) => {
        expect(Array.isArray(contentFilterProblems(filter))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
