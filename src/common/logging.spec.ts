import Fastify from 'fastify';
import { Writable } from 'node:stream';
import { loadSettings } from '../config/settings';
import { createLoggers, maskUrl, RequestLogLines } from './logging';

function capture(): { stream: Writable; lines: () => Record<string, any>[]; text: () => string } {
  let output = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  return {
    stream,
    text: () => output,
    lines: () =>
      output
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, any>),
  };
}

describe('logging', () => {
  it('masks the token of inbound webhook URLs only', () => {
    expect(maskUrl('/webhooks/chatwoot/s3cr3tToken')).toBe('/webhooks/chatwoot/[token]');
    expect(maskUrl('/webhooks/jivo/s3cr3tToken?x=1')).toBe('/webhooks/jivo/[token]?x=1');
    expect(maskUrl('/api/events?limit=5')).toBe('/api/events?limit=5');
  });

  it('never prints secret, signingSecret, token or authorization fields', () => {
    const output = capture();
    const logger = createLoggers(loadSettings({ LOG_LEVEL: 'info' }), output.stream).app;
    logger.info({
      secret: 'whsec_1',
      token: 'tok_2',
      subscription: { signingSecret: 'sig_3' },
      headers: { authorization: 'Bearer key_4' },
    });
    expect(output.text()).not.toMatch(/whsec_1|tok_2|sig_3|key_4/);
    expect(output.text()).toContain('[Redacted]');
  });

  it('writes one line per request: masked url, status, time and event id, no headers', async () => {
    const output = capture();
    const app = Fastify({
      loggerInstance: createLoggers(loadSettings({ LOG_LEVEL: 'info' }), output.stream).lines,
      logController: new RequestLogLines(),
    });
    app.post('/webhooks/:kind/:token', async (request) => {
      request.eventId = 'evt_1';
      return { result: 'ok' };
    });
    app.get('/broken', async () => {
      throw new Error('boom');
    });
    await app.inject({
      method: 'POST',
      url: '/webhooks/jivo/s3cr3tToken',
      headers: { cookie: 'session=c00kie', 'x-chatwoot-signature': 'sha256=abc' },
      payload: { event_name: 'chat_accepted' },
    });
    await app.inject({ method: 'GET', url: '/broken' });
    await app.close();

    expect(output.text()).not.toMatch(/s3cr3tToken|c00kie|sha256=abc/);
    const requests = output.lines().filter((line) => line.responseTime !== undefined);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      level: 30,
      reqId: expect.any(String),
      msg: 'POST /webhooks/jivo/[token] 200',
      req: { method: 'POST', url: '/webhooks/jivo/[token]' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
      eventId: 'evt_1',
    });
    expect(requests[0].req.headers).toBeUndefined();
    expect(requests[1]).toMatchObject({ level: 50, res: { statusCode: 500 } });
  });

  it('defaults to info, and to warn under NODE_ENV=test', () => {
    expect(loadSettings({}).LOG_LEVEL).toBe('info');
    expect(loadSettings({ NODE_ENV: 'test' }).LOG_LEVEL).toBe('warn');
    expect(loadSettings({ NODE_ENV: 'test', LOG_LEVEL: 'debug' }).LOG_LEVEL).toBe('debug');
    expect(() => loadSettings({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});
