import { Writable } from 'node:stream';
import pino from 'pino';
import { loadSettings } from '../config/settings';
import { loggerParams, maskUrl, redactHeaders } from './logging';

describe('logging', () => {
  it('masks the token of inbound webhook URLs only', () => {
    expect(maskUrl('/webhooks/chatwoot/s3cr3tToken')).toBe('/webhooks/chatwoot/[token]');
    expect(maskUrl('/webhooks/jivo/s3cr3tToken?x=1')).toBe('/webhooks/jivo/[token]?x=1');
    expect(maskUrl('/api/events?limit=5')).toBe('/api/events?limit=5');
  });

  it('redacts credentials and every *-signature header', () => {
    expect(
      redactHeaders({
        authorization: 'Bearer key',
        cookie: 'a=b',
        'x-chatwoot-signature': 'sha256=abc',
        'x-evolvy-signature': 'sha256=def',
        'webhook-signature': 'v1,xyz',
        'content-type': 'application/json',
      }),
    ).toEqual({
      authorization: '[Redacted]',
      cookie: '[Redacted]',
      'x-chatwoot-signature': '[Redacted]',
      'x-evolvy-signature': '[Redacted]',
      'webhook-signature': '[Redacted]',
      'content-type': 'application/json',
    });
  });

  it('never prints secret, signingSecret or token fields', () => {
    let output = '';
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const params = loggerParams(loadSettings({ LOG_LEVEL: 'info' }), stream);
    const options = params.pinoHttp as pino.LoggerOptions;
    const logger = pino(options, stream);
    logger.info({ secret: 'whsec_1', token: 'tok_2', subscription: { signingSecret: 'sig_3' } });
    expect(output).not.toMatch(/whsec_1|tok_2|sig_3/);
    expect(output).toContain('[Redacted]');
  });

  it('defaults to info, and to warn under NODE_ENV=test', () => {
    expect(loadSettings({}).LOG_LEVEL).toBe('info');
    expect(loadSettings({ NODE_ENV: 'test' }).LOG_LEVEL).toBe('warn');
    expect(loadSettings({ NODE_ENV: 'test', LOG_LEVEL: 'debug' }).LOG_LEVEL).toBe('debug');
    expect(() => loadSettings({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });
});
