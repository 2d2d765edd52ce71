import Fastify from 'fastify';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Writable } from 'node:stream';
import { loadSettings } from '../config/settings';
import {
  createLoggers,
  LOG_FLUSH_MS,
  logDestination,
  loggedUrl,
  markRequestLogger,
  maskUrl,
  RequestLogLines,
} from './logging';

/**
 * A process (Jest's child processes require TypeScript, see jest.config.js) that logs with
 * the real destination, then runs `after`; resolves with what it wrote to stdout, when.
 */
function logFromChild(
  after: string,
  until: (stdout: string) => boolean,
): Promise<{ stdout: string; exitCode: number | null; msToOutput: number | null }> {
  const script = `
    const { createLoggers } = require(${JSON.stringify(require.resolve('./logging'))});
    const { lines } = createLoggers({ LOG_LEVEL: 'info', APP_ROLE: 'api' });
    process.send('started');
    lines.info('first line');
    lines.info('second line');
    ${after}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'ignore', 'ipc'],
    });
    let stdout = '';
    let started = 0;
    let msToOutput: number | null = null;
    child.on('message', () => (started = Date.now()));
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (until(stdout) && msToOutput === null) {
        msToOutput = Date.now() - started;
        child.kill();
      }
    });
    child.on('error', reject);
    child.on('exit', (exitCode) => resolve({ stdout, exitCode, msToOutput }));
  });
}

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

  it('masks the token in absolute form, with doubled slashes, in any letter case', () => {
    expect(maskUrl('http://x/webhooks/jivo/s3cr3t')).toBe('http://x/webhooks/jivo/[token]');
    expect(maskUrl('HTTPS://u:p@x:1/webhooks/jivo/s3cr3t?a')).toBe(
      'HTTPS://u:p@x:1/webhooks/jivo/[token]?a',
    );
    expect(maskUrl('//webhooks//jivo/s3cr3t/')).toBe('//webhooks//jivo/[token]/');
    expect(maskUrl('/WEBHOOKS/jivo/s3cr3t')).toBe('/WEBHOOKS/jivo/[token]');
    expect(maskUrl('http://x/api/events')).toBe('http://x/api/events');
  });

  it('masks the last path segment of a request the router matched to a :token route', () => {
    const route = '/webhooks/:kind/:token';
    expect(loggedUrl('/%77ebhooks/jivo/s3cr3t?x=1', route)).toBe('/%77ebhooks/jivo/[token]?x=1');
    expect(loggedUrl('http://x/webhooks/jivo/s3cr%33t#f', route)).toBe(
      'http://x/webhooks/jivo/[token]#f',
    );
    expect(loggedUrl('/api/events/evt_1', '/api/events/:id')).toBe('/api/events/evt_1');
    expect(loggedUrl('/webhooks/jivo/s3cr3t/', undefined)).toBe('/webhooks/jivo/[token]/');
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

  it('writes the request lines built as one string exactly as the logger would', async () => {
    // As bootstrap.ts: Fastify's logger made from the process's, handed to every request.
    async function requestLines(asOneString: boolean): Promise<string[]> {
      const output = capture();
      const app = Fastify({
        loggerInstance: createLoggers(loadSettings({ LOG_LEVEL: 'info' }), output.stream).lines,
        logController: new RequestLogLines(),
        childLoggerFactory: (logger) => logger,
      });
      if (asOneString) markRequestLogger(app.log);
      const objectPath = jest.spyOn(app.log, 'info');
      app.post('/webhooks/:kind/:token', async (request) => {
        request.eventId = 'evt_"1"';
        return { result: 'ok' };
      });
      app.get('/plain', async () => ({ ok: true }));
      await app.inject({ method: 'POST', url: '/webhooks/jivo/s3cr3t', payload: {} });
      await app.inject({ method: 'GET', url: '/plain?q=\\x' });
      await app.close();
      expect(objectPath).toHaveBeenCalledTimes(asOneString ? 0 : 2);
      expect(output.text()).not.toContain('s3cr3t');
      return output.text().trim().split('\n');
    }
    const [built, logged] = [await requestLines(true), await requestLines(false)];
    expect(built).toHaveLength(2);
    const comparable = (line: string) =>
      JSON.stringify({ ...JSON.parse(line), time: 0, responseTime: 0 });
    expect(built.map(comparable)).toEqual(logged.map(comparable));
    expect(JSON.parse(built[0])).toMatchObject({
      level: 30,
      pid: process.pid,
      msg: 'POST /webhooks/jivo/[token] 200',
      req: { method: 'POST', url: '/webhooks/jivo/[token]' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
      eventId: 'evt_"1"',
    });
    expect(JSON.parse(built[1])).not.toHaveProperty('eventId');
  });

  it('masks the token of targets no client would send: absolute form, percent-encoded', async () => {
    const output = capture();
    const app = Fastify({
      loggerInstance: createLoggers(loadSettings({ LOG_LEVEL: 'info' }), output.stream).lines,
      logController: new RequestLogLines(),
    });
    app.post('/webhooks/:kind/:token', async () => ({ result: 'ok' }));
    // As Nest's: Fastify's own 404 handler logs the raw URL on a line of its own.
    app.setNotFoundHandler((_request, reply) => reply.code(404).send({ statusCode: 404 }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    for (const target of [
      'http://x/webhooks/jivo/s3cr3tToken',
      '/%77ebhooks/jivo/s3cr3tToken',
      'http://x//webhooks/jivo/s3cr3tToken',
    ]) {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', reject);
        socket.on('close', () => resolve());
        socket.on('data', () => undefined);
        socket.end(
          `POST ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
            'Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
        );
      });
    }
    await app.close();

    const urls = output
      .lines()
      .filter((line) => line.responseTime !== undefined)
      .map((line) => `${line.req.url} ${line.res.statusCode}`);
    expect(urls).toEqual([
      'http://x/webhooks/jivo/[token] 200',
      '/%77ebhooks/jivo/[token] 200',
      'http://x//webhooks/jivo/[token] 404',
    ]);
    expect(output.text()).not.toContain('s3cr3tToken');
  });

  it('writes the lines of a quiet process within the flush interval', async () => {
    const both = (stdout: string) => stdout.includes('second line');
    const written = await logFromChild('setTimeout(() => undefined, 5000);', both);
    expect(written.msToOutput).not.toBeNull();
    expect(written.msToOutput).toBeLessThan(LOG_FLUSH_MS + 1000);
    expect(written.stdout).toContain('first line');
  });

  it('writes the buffered lines when the process crashes or exits', async () => {
    const crashed = await logFromChild(
      "setTimeout(() => { throw new Error('boom'); }, 1);",
      () => false,
    );
    expect(crashed.exitCode).toBe(1);
    expect(crashed.stdout).toMatch(/first line[^]*second line/);
    const exited = await logFromChild('setTimeout(() => process.exit(3), 1);', () => false);
    expect(exited.exitCode).toBe(3);
    expect(exited.stdout).toMatch(/first line[^]*second line/);
  });

  it('defaults to info, and to warn under NODE_ENV=test', () => {
    expect(loadSettings({}).LOG_LEVEL).toBe('info');
    expect(loadSettings({ NODE_ENV: 'test' }).LOG_LEVEL).toBe('warn');
    expect(loadSettings({ NODE_ENV: 'test', LOG_LEVEL: 'debug' }).LOG_LEVEL).toBe('debug');
    expect(() => loadSettings({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it("gathers lines into few writes, and writes a quiet process's line within a moment", async () => {
    const directory = mkdtempSync(join(tmpdir(), 'log-destination-'));
    const file = join(directory, 'lines.log');
    const destination = logDestination(file) as ReturnType<typeof pino.destination>;
    try {
      const logger = pino({ base: null }, destination);
      await new Promise((resolve) => destination.once('ready', resolve));
      logger.info({ deliveryId: 'dlv_1' }, 'delivery attempt');
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(readFileSync(file, 'utf8')).toBe('');

      const written = Date.now();
      await waitForText(file, 'dlv_1');
      expect(Date.now() - written).toBeLessThan(1000);
      // Past the gathering size, lines are written without waiting for the timer.
      logger.info({ filler: 'x'.repeat(5000) }, 'a long line');
      await waitForText(file, 'a long line');
    } finally {
      destination.destroy();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

async function waitForText(file: string, text: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!readFileSync(file, 'utf8').includes(text)) {
    if (Date.now() > deadline) throw new Error(`${text} never reached ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
