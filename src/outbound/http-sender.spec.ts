import { HttpSink, SinkHandler } from '../../test/support/http-sink';
import { Settings } from '../config/settings';
import {
  HttpSender,
  OutboundRequest,
  parseRetryAfter,
  RESPONSE_EXCERPT_BYTES,
} from './http-sender';

const TEN_MB = 10 * 1024 * 1024;

describe('HttpSender', () => {
  const sender = new HttpSender();
  const sinks: HttpSink[] = [];
  let sink: HttpSink;
  let hugeBody: { written: number; finished: boolean };

  const send = (path: string, extra: Partial<OutboundRequest> = {}) =>
    sender.send({
      url: `${sink.url}${path}`,
      body: '{"hello":"world"}',
      headers: { 'webhook-id': 'evt_1' },
      timeoutMs: 2000,
      allowPrivateTargets: true,
      ...extra,
    });

  const open = async (handler?: SinkHandler) => {
    const started = new HttpSink();
    if (handler) started.handleWith(handler);
    sinks.push(started);
    return started.start();
  };

  beforeAll(async () => {
    sink = await open((req, res) => {
      const path = req.url ?? '';
      if (path === '/ok') return res.end('thanks');
      if (path === '/error') return res.writeHead(500, { 'retry-after': '3' }).end('boom');
      if (path === '/nul') return res.end('a\u0000b');
      if (path === '/gone') return res.writeHead(410).end();
      if (path === '/busy') return res.writeHead(429, { 'retry-after': '3' }).end();
      if (path === '/down') {
        const at = new Date(Date.now() + 120_000).toUTCString();
        return res.writeHead(503, { 'retry-after': at }).end();
      }
      if (path === '/moved') return res.writeHead(302, { location: '/elsewhere' }).end();
      if (path === '/hang') return;
      if (path === '/stall-body') return res.writeHead(200).write('partial');
      if (path === '/drip') {
        res.writeHead(200);
        const drip = setInterval(() => res.write('.'), 20);
        return res.on('close', () => clearInterval(drip));
      }
      if (path === '/huge') {
        hugeBody = { written: 0, finished: false };
        res.writeHead(200, { 'content-length': String(TEN_MB) });
        const chunk = Buffer.alloc(64 * 1024, 'a');
        const pump = () => {
          while (hugeBody.written < TEN_MB) {
            hugeBody.written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end(() => (hugeBody.finished = true));
        };
        return pump();
      }
      if (path === '/reset') return req.socket.resetAndDestroy();
      res.writeHead(404).end();
    });
  });

  afterAll(async () => {
    await sender.onModuleDestroy();
    await Promise.all(sinks.map((started) => started.stop()));
  });

  it('posts the body and headers, and succeeds on 2xx with the response excerpt', async () => {
    const outcome = await send('/ok');
    expect(outcome).toMatchObject({
      succeeded: true,
      statusCode: 200,
      error: null,
      responseExcerpt: 'thanks',
      retryable: false,
      retryAfterMs: null,
      gone: false,
    });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
    const received = sink.requests.find((request) => request.path === '/ok');
    expect(received?.body).toBe('{"hello":"world"}');
    expect(received?.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': 'evt_1',
    });
  });

  it('sends a body given as bytes as it sends its text', async () => {
    const text = JSON.stringify({ text: 'Olá, 世界 🎉' });
    await send('/ok?as=text', { body: text });
    await send('/ok?as=bytes', { body: Buffer.from(text, 'utf8') });
    const received = (as: string) =>
      sink.requests.find((request) => request.path === `/ok?as=${as}`);
    expect(received('bytes')?.body).toBe(text);
    expect(received('bytes')?.headers['content-length']).toBe(
      received('text')?.headers['content-length'],
    );
  });

  it('keeps an excerpt Postgres can store: a NUL character is replaced', async () => {
    expect(await send('/nul')).toMatchObject({ succeeded: true, responseExcerpt: 'a\uFFFDb' });
  });

  it('retries a 5xx, without Retry-After outside 429 and 503', async () => {
    expect(await send('/error')).toMatchObject({
      succeeded: false,
      statusCode: 500,
      error: 'HTTP 500',
      responseExcerpt: 'boom',
      retryable: true,
      retryAfterMs: null,
      gone: false,
    });
  });

  it('does not retry a 410 and marks the target gone', async () => {
    expect(await send('/gone')).toMatchObject({
      succeeded: false,
      statusCode: 410,
      retryable: false,
      gone: true,
    });
  });

  it('reads Retry-After in seconds on a 429', async () => {
    expect(await send('/busy')).toMatchObject({
      statusCode: 429,
      error: 'HTTP 429',
      retryable: true,
      retryAfterMs: 3000,
    });
  });

  it('reads Retry-After as an HTTP-date on a 503', async () => {
    const outcome = await send('/down');
    expect(outcome).toMatchObject({ statusCode: 503, retryable: true });
    expect(outcome.retryAfterMs).toBeGreaterThan(115_000);
    expect(outcome.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('does not follow a redirect, and says where it pointed', async () => {
    expect(await send('/moved')).toMatchObject({
      succeeded: false,
      statusCode: 302,
      error: `HTTP 302 redirect to ${sink.url}/elsewhere (redirects are not followed)`,
      retryable: false,
    });
    expect(sink.requests.map((request) => request.path)).not.toContain('/elsewhere');
  });

  it('keeps the credentials of its URL out of the redirect it records', async () => {
    const outcome = await sender.send({
      url: sink.url.replace('http://', 'http://crm-user:crm-pass@') + '/moved',
      body: '{}',
      headers: {},
      timeoutMs: 2000,
      allowPrivateTargets: true,
    });
    expect(outcome.error).toBe(
      `HTTP 302 redirect to ${sink.url}/elsewhere (redirects are not followed)`,
    );
  });

  it.each([
    ['no answer at all', '/hang'],
    ['headers then a stalled body', '/stall-body'],
    ['a body that trickles for longer than the timeout', '/drip'],
  ])('times out on %s, retryably', async (_case, path) => {
    const outcome = await send(path, { timeoutMs: 200 });
    expect(outcome).toMatchObject({
      succeeded: false,
      statusCode: null,
      error: 'timed out after 200 ms',
      retryable: true,
    });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(190);
    expect(outcome.durationMs).toBeLessThan(1500);
  });

  it('keeps only an excerpt of a huge response and stops reading it', async () => {
    const outcome = await send('/huge');
    expect(outcome.succeeded).toBe(true);
    expect(outcome.responseExcerpt).toBe('a'.repeat(RESPONSE_EXCERPT_BYTES));
    expect(await send('/huge', { responseLimitBytes: 10 })).toMatchObject({
      responseExcerpt: 'a'.repeat(10),
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(hugeBody.finished).toBe(false);
  });

  it('retries a reset connection', async () => {
    const outcome = await send('/reset');
    expect(outcome).toMatchObject({ succeeded: false, statusCode: null, retryable: true });
    expect(outcome.error).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
  });

  it('refuses a non-http url without retrying, even with private targets allowed', async () => {
    const outcome = await sender.send({
      url: 'ftp://example.com/hook',
      body: '{}',
      headers: {},
      timeoutMs: 200,
      allowPrivateTargets: true,
    });
    expect(outcome).toMatchObject({ retryable: false, statusCode: null });
    expect(outcome.error).toMatch(/^target refused: url must use http or https/);
  });

  it('judges a URL by whether private targets are allowed, however often it is sent to', async () => {
    const url = `${sink.url}/ok`;
    for (let round = 0; round < 2; round++) {
      for (const allowPrivateTargets of [true, false]) {
        const outcome = await send('/ok', { url, allowPrivateTargets });
        if (allowPrivateTargets) expect(outcome.succeeded).toBe(true);
        else expect(outcome.error).toMatch(/^target refused: url resolves to 127\.0\.0\.1/);
      }
    }
  });

  describe('without private targets', () => {
    it('refuses a host name that resolves to loopback when connecting: nothing reaches it', async () => {
      const guarded = await open();
      const port = new URL(guarded.url).port;
      const outcome = await sender.send({
        url: `http://localhost:${port}/hook`,
        body: '{}',
        headers: {},
        timeoutMs: 2000,
        allowPrivateTargets: false,
      });
      expect(outcome).toMatchObject({ succeeded: false, statusCode: null, retryable: false });
      expect(outcome.error).toMatch(
        /^target refused: localhost resolves to (127\.0\.0\.1|::1), a private or reserved/,
      );
      expect(guarded.connections).toBe(0);
    });

    it.each([
      '127.0.0.1',
      '[::ffff:127.0.0.1]',
      '[::127.0.0.1]',
      '[::ffff:0:127.0.0.1]',
      '[64:ff9b::127.0.0.1]',
      '[2002:7f00:1::1]',
    ])('refuses the IP literal %s before connecting', async (host) => {
      const guarded = await open();
      const port = new URL(guarded.url).port;
      const outcome = await sender.send({
        url: `http://${host}:${port}/hook`,
        body: '{}',
        headers: {},
        timeoutMs: 2000,
        allowPrivateTargets: false,
      });
      expect(outcome).toMatchObject({ succeeded: false, statusCode: null, retryable: false });
      expect(outcome.error).toMatch(/^target refused: url resolves to .*private or reserved/);
      expect(guarded.connections).toBe(0);
    });

    it('is the default when neither the request nor the settings allow them', async () => {
      const guarded = await open();
      const outcome = await new HttpSender().send({
        url: `${guarded.url}/hook`,
        body: '{}',
        headers: {},
        timeoutMs: 2000,
      });
      expect(outcome.error).toMatch(/^target refused:/);
      expect(guarded.connections).toBe(0);
    });

    it('follows ALLOW_PRIVATE_TARGETS from the settings when the request does not say', async () => {
      const allowing = new HttpSender({ ALLOW_PRIVATE_TARGETS: true } as Settings);
      try {
        const outcome = await allowing.send({
          url: `${sink.url}/ok`,
          body: '{}',
          headers: {},
          timeoutMs: 2000,
        });
        expect(outcome).toMatchObject({ succeeded: true, statusCode: 200 });
      } finally {
        await allowing.onModuleDestroy();
      }
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it.each([
    ['3', 3000],
    [' 120 ', 120_000],
    ['0', 0],
    ['Sat, 01 Mar 2025 12:00:30 GMT', 30_000],
    ['Saturday, 01-Mar-25 12:01:00 GMT', 60_000],
    ['Sat Mar  1 12:00:05 2025', 5000],
  ])('reads %p as %p ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['5', '7'], now)).toBe(5000);
  });

  it.each([
    undefined,
    '',
    '-1',
    '1.5',
    '3 seconds',
    'soon',
    '2025-03-01T12:00:30Z',
    'Sat, 01 Mar 2025 11:59:00 GMT',
    'Sat, 99 Foo 2025 12:00:30 GMT',
    '99999999999999999999',
  ])('gives null for %p', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });
});
