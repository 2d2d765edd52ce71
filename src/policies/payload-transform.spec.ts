import { CanonicalEvent, Message } from '../canonical/canonical-event';
import { buildSampleEvent } from '../canonical/sample-event';
import {
  CompiledTransform,
  DEFAULT_TRANSFORM_LIMITS,
  TransformCache,
  TransformError,
  TransformLimits,
  compileTransform,
  getCompiledTransform,
  transformProblems,
} from './payload-transform';
import { transformFailure as failure } from './testing/transform-failure';

function textMessage(id: string, sender: 'contact' | 'agent', text: string): Message {
  const name = sender === 'contact' ? 'Maria Souza' : 'Carlos (Vendas)';
  return {
    externalId: id,
    direction: sender === 'contact' ? 'inbound' : 'outbound',
    kind: 'text',
    text,
    attachments: [],
    sender: { type: sender, externalId: null, name, email: null },
    createdAt: '2025-05-02T13:45:10.000Z',
    private: false,
    deleted: false,
    status: null,
  };
}

/** A finished WhatsApp chat, with its transcript, linked to a Pipedrive deal. */
function chatEvent(): CanonicalEvent {
  const at = new Date('2025-05-02T14:00:00.000Z');
  const { canonical: event } = buildSampleEvent('evt_transform', 'conversation.ended', at);
  event.conversation = {
    ...event.conversation!,
    externalId: '5567',
    status: 'resolved',
    channel: { type: 'whatsapp', externalId: null, name: null },
    labels: ['pedido'],
    rating: 'positive',
    attributes: { pipedriveDealId: '812' },
  };
  event.contact!.name = 'Maria Souza';
  event.message = textMessage('1002', 'agent', 'Seu pedido sai hoje');
  event.messages = [
    textMessage('1001', 'contact', 'Cadê meu pedido 123?'),
    textMessage('1002', 'agent', 'Seu pedido sai hoje'),
  ];
  return event;
}

const apply = (expression: string, event: unknown = chatEvent(), limits?: TransformLimits) =>
  compileTransform(expression).apply(event, limits);

describe('payload transforms for real targets', () => {
  it('shapes a Google Sheets row', async () => {
    const body = await apply('{"date": occurredAt, "name": contact.name, "text": message.text}');
    expect(body).toBe(
      '{"date":"2025-05-02T14:00:00.000Z","name":"Maria Souza","text":"Seu pedido sai hoje"}',
    );
  });

  it('shapes an RD Station conversion', async () => {
    const expression = `{
      "event_type": "CONVERSION",
      "event_family": "CDP",
      "payload": {
        "conversion_identifier": "chat-" & conversation.channel.type,
        "email": contact.email,
        "name": contact.name,
        "mobile_phone": contact.phoneE164,
        "tags": conversation.labels[],
        "cf_avaliacao": conversation.rating = "positive" ? "boa" : "ruim"
      }
    }`;
    expect(JSON.parse(await apply(expression))).toEqual({
      event_type: 'CONVERSION',
      event_family: 'CDP',
      payload: {
        conversion_identifier: 'chat-whatsapp',
        email: 'maria@example.com',
        name: 'Maria Souza',
        mobile_phone: '+5511912345678',
        tags: ['pedido'],
        cf_avaliacao: 'boa',
      },
    });
  });

  it('shapes a Pipedrive note with the transcript', async () => {
    const expression = `{
      "deal_id": $number(conversation.attributes.pipedriveDealId),
      "content": "<b>Chat " & conversation.externalId & "</b><br>" &
        $join(messages.(sender.name & ": " & text), "<br>"),
      "pinned_to_deal_flag": 1
    }`;
    expect(JSON.parse(await apply(expression))).toEqual({
      deal_id: 812,
      content:
        '<b>Chat 5567</b><br>Maria Souza: Cadê meu pedido 123?<br>Carlos (Vendas): Seu pedido sai hoje',
      pinned_to_deal_flag: 1,
    });
  });

  it('writes exactly the JSON that JSON.stringify would for plain results', async () => {
    const expression =
      '{"quote\\"d": "a\\u00e9\\n", "list": [1, 2.5, true, null, {}], "none": nope}';
    const body = await apply(expression);
    expect(body).toBe(JSON.stringify({ 'quote"d': 'aé\n', list: [1, 2.5, true, null, {}] }));
    expect(await apply('"just text"')).toBe('"just text"');
    expect(await apply('messages.externalId')).toBe('["1001","1002"]');
  });
});

describe('transformProblems', () => {
  it('accepts an expression that compiles', () => {
    expect(transformProblems('{"name": contact.name}')).toEqual([]);
  });

  it.each([
    ['nothing', undefined, 'transform must be a string'],
    ['an object', { name: 'contact.name' }, 'transform must be a string'],
    ['an empty string', '', 'transform must not be empty'],
    ['blanks', '  \n ', 'transform must not be empty'],
  ])('refuses %s', (_name, expression, problem) => {
    expect(transformProblems(expression)).toEqual([problem]);
  });

  it('refuses more than 16 KiB', () => {
    const padded = (bytes: number) => `"${'é'.repeat((bytes - 2) / 2)}"`;
    expect(transformProblems(padded(16_384))).toEqual([]);
    expect(transformProblems(padded(16_386))).toEqual([
      'transform is 16386 bytes, more than the 16384 allowed',
    ]);
  });

  it.each([
    ['$foo(', 'Expected ")" before end of expression at position 5'],
    ['{"a": (1 + }', 'The symbol "}" cannot be used as a unary operator at position 12'],
    ['"open', 'String literal must be terminated by a matching quote at position 5'],
  ])('reports why %p does not compile, and where', (expression, message) => {
    expect(transformProblems(expression)).toEqual([`transform does not compile: ${message}`]);
  });

  it('is what compileTransform throws', () => {
    expect(() => compileTransform('$foo(')).toThrow(
      new TransformError(
        'transform does not compile: Expected ")" before end of expression at position 5',
        'invalid',
      ),
    );
    expect(() => compileTransform('')).toThrow(TransformError);
  });
});

describe('CompiledTransform.apply failures', () => {
  it('turns JSONata runtime errors into TransformErrors', async () => {
    const undefinedFunction = await failure(apply('$undefinedFn(1)'));
    expect(undefinedFunction.reason).toBe('evaluation');
    expect(undefinedFunction.message).toBe(
      'transform failed: Attempted to invoke a non-function at position 13',
    );
    expect((await failure(apply('$error("no deal id")'))).message).toMatch(
      /^transform failed: no deal id/,
    );
    expect((await failure(apply('contact.name + 1'))).message).toMatch(
      /^transform failed: The left side of the "\+" operator must evaluate to a number/,
    );
  });

  it('times out an endless loop', async () => {
    const started = Date.now();
    const error = await failure(
      apply(
        '($f := function($x){ $f($x) }; $f(1))',
        {},
        { ...DEFAULT_TRANSFORM_LIMITS, timeoutMs: 100 },
      ),
    );
    expect(error.reason).toBe('timeout');
    expect(error.message).toBe('transform timed out after 100 ms');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('times out a long map', async () => {
    const started = Date.now();
    const error = await failure(
      apply(
        '$map([1..10000000], function($v){$v})',
        {},
        { ...DEFAULT_TRANSFORM_LIMITS, timeoutMs: 100 },
      ),
    );
    expect(error.reason).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('stops runaway recursion at the depth limit', async () => {
    const started = Date.now();
    const error = await failure(apply('($f := function($x){ 1 + $f($x) }; $f(1))'));
    expect(error.reason).toBe('depth');
    expect(error.message).toBe('transform went deeper than 200 levels (runaway recursion?)');
    expect(Date.now() - started).toBeLessThan(500);

    const nested = await failure(apply('$eval("($f := function($x){ 1 + $f($x) }; $f(1))")'));
    expect(nested.reason).toBe('depth');
  });

  it('applies the depth limit it is given', async () => {
    const countdown = compileTransform(
      '($f := function($n){ $n = 0 ? 0 : 1 + $f($n - 1) }; {"levels": $f(20)})',
    );
    expect(await countdown.apply({})).toBe('{"levels":20}');
    const error = await failure(countdown.apply({}, { ...DEFAULT_TRANSFORM_LIMITS, maxDepth: 50 }));
    expect(error.message).toBe('transform went deeper than 50 levels (runaway recursion?)');
  });

  it('refuses output over the byte limit, counting UTF-8 bytes', async () => {
    const ten = '$pad("", 10, "é")'; // "éééééééééé": 22 bytes of JSON
    expect(await apply(ten, {}, { ...DEFAULT_TRANSFORM_LIMITS, maxOutputBytes: 22 })).toBe(
      `"${'é'.repeat(10)}"`,
    );
    const error = await failure(
      apply(ten, {}, { ...DEFAULT_TRANSFORM_LIMITS, maxOutputBytes: 21 }),
    );
    expect(error.reason).toBe('too_large');
    expect(error.message).toBe('transform output is larger than 21 bytes');

    expect((await failure(apply('[1..100000]'))).message).toBe(
      'transform output is larger than 262144 bytes',
    );
    expect((await failure(apply('$pad("", 300000, "x")'))).reason).toBe('too_large');
  });

  it('refuses output nested deeper than the depth limit', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 60; i++) deep = { deeper: deep };
    expect(await apply('$', deep)).toBe(JSON.stringify(deep));
    const error = await failure(apply('$', deep, { ...DEFAULT_TRANSFORM_LIMITS, maxDepth: 50 }));
    expect(error.reason).toBe('depth');
    expect(error.message).toBe('transform output is nested deeper than 50 levels');
  });

  it('reports an expression that matched nothing', async () => {
    const error = await failure(apply('contact.company.name'));
    expect(error.reason).toBe('no_output');
    expect(error.message).toBe('transform produced no output');
  });

  it.each([
    ['{"name": $uppercase}', 'a function at $.name'],
    ['{"format": function($x){ $x }}', 'a function at $.format'],
    ['[1, /pedido/]', 'a function at $[1]'],
    ['{"ratio": 1 / 0}', 'the number Infinity at $.ratio'],
  ])('refuses output that is not plain JSON: %s', async (expression, what) => {
    const error = await failure(apply(expression));
    expect(error.reason).toBe('not_json');
    expect(error.message).toBe(`transform output is not plain JSON: ${what}`);
  });
});

describe('concurrent applies of one compiled transform', () => {
  const loop = compileTransform(
    '($loop := function($i){ $i < $$.n ? $loop($i + 1) : $i }; {"n": $loop(0)})',
  );
  const slow = { n: 1e12 };
  const fast = { n: 10 };
  const limits = (timeoutMs: number) => ({ ...DEFAULT_TRANSFORM_LIMITS, timeoutMs });

  /** Waits without starving JSONata, whose evaluation only ever yields to microtasks. */
  async function after(ms: number): Promise<void> {
    const start = Date.now();
    while (Date.now() - start < ms) await Promise.resolve();
  }

  function timed(promise: Promise<string>) {
    const started = Date.now();
    return promise.then(
      (body) => ({ body, error: undefined, ms: Date.now() - started }),
      (error: TransformError) => ({ body: undefined, error, ms: Date.now() - started }),
    );
  }

  it('lets the fast one finish while the slow one times out', async () => {
    const [slowRun, fastRun] = await Promise.all([
      timed(loop.apply(slow, limits(150))),
      timed(loop.apply(fast, limits(150))),
    ]);
    expect(fastRun.body).toBe('{"n":10}');
    expect(slowRun.error?.reason).toBe('timeout');
  });

  it('gives each apply its own deadline, whatever starts later', async () => {
    const slowRun = timed(loop.apply(slow, limits(400)));
    await after(100);
    expect(await loop.apply(fast, limits(50))).toBe('{"n":10}');
    const laterSlowRun = timed(loop.apply(slow, limits(100)));

    const [first, later] = await Promise.all([slowRun, laterSlowRun]);
    expect(first.error?.reason).toBe('timeout');
    expect(first.ms).toBeGreaterThanOrEqual(380);
    expect(first.ms).toBeLessThan(800);
    expect(later.error?.reason).toBe('timeout');
    expect(later.ms).toBeLessThan(300);
  });
});

describe('getCompiledTransform', () => {
  it('compiles each expression once', () => {
    const expression = '{"name": contact.name}';
    const compiled = getCompiledTransform(expression);
    expect(compiled).toBeInstanceOf(CompiledTransform);
    expect(getCompiledTransform(expression)).toBe(compiled);
    expect(getCompiledTransform('{"text": message.text}')).not.toBe(compiled);
  });

  it('throws for an expression that does not compile, and keeps nothing', () => {
    const cache = new TransformCache(2);
    expect(() => cache.get('$foo(')).toThrow(TransformError);
    expect(cache.size).toBe(0);
  });

  it('drops the least recently used expression when full', () => {
    const cache = new TransformCache(2);
    const a = cache.get('"a"');
    const b = cache.get('"b"');
    expect(cache.get('"a"')).toBe(a);
    cache.get('"c"');
    expect(cache.size).toBe(2);
    expect(cache.get('"a"')).toBe(a);
    expect(cache.get('"b"')).not.toBe(b);
  });
});
