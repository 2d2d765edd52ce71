import { createHmac } from 'node:crypto';
import { AdminClient } from '../support/admin-client';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { buildProject, freePort, RouterProcess } from '../support/processes';
import { rawRequest } from '../support/raw-http';
import { TEST_ADMIN_KEY, testEnvironment } from '../support/test-settings';
import { waitFor } from '../support/wait-for';

const SIGNING_SECRET = 'chatwoot-signing-secret-for-logs';

describe('structured logs (node dist/main.js, LOG_LEVEL=debug)', () => {
  const sink = new HttpSink();
  let router: RouterProcess;
  let baseUrl: string;
  let admin: AdminClient;

  beforeAll(async () => {
    buildProject();
    await sink.start();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    admin = new AdminClient(baseUrl, TEST_ADMIN_KEY);
    router = new RouterProcess(
      testEnvironment('logs', port, { LOG_LEVEL: 'debug', RETENTION_INTERVAL_MINUTES: '0' }),
    );
    await router.start(/API and worker listening on/);
  }, 120_000);

  afterAll(async () => {
    await router?.stop();
    await sink.stop();
  });

  function jsonLines(): Record<string, any>[] {
    return router.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, any>);
  }

  it('logs requests and delivery attempts as JSON, without tokens, keys, signatures or secrets', async () => {
    const source = await admin.request('POST', '/api/sources', {
      kind: 'chatwoot',
      name: 'Chatwoot (logs)',
      signingSecret: SIGNING_SECRET,
    });
    expect(source.status).toBe(201);
    const subscription = await admin.request('POST', '/api/subscriptions', {
      name: 'logs sink',
      url: `${sink.url}/logs`,
      eventTypes: ['*'],
      sourceIds: [source.body.id],
    });
    expect(subscription.status).toBe(201);

    const body = fixtureText('chatwoot', 'message_created.json');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `sha256=${createHmac('sha256', SIGNING_SECRET).update(`${timestamp}.${body}`).digest('hex')}`;
    const answer = await fetch(`${baseUrl}/webhooks/chatwoot/${source.body.token}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-chatwoot-timestamp': timestamp,
        'x-chatwoot-signature': signature,
        cookie: 'session=cookie-secret-value',
      },
      body,
    });
    expect(answer.status).toBe(200);
    const { eventId } = (await answer.json()) as { eventId: string };
    // The same webhook in targets no client sends but a proxy or a probe may: still masked.
    const signedHeaders = {
      'content-type': 'application/json',
      'x-chatwoot-timestamp': timestamp,
      'x-chatwoot-signature': signature,
    };
    const token = source.body.token as string;
    const oddTargets = {
      [`http://hooks.example.com/webhooks/chatwoot/${token}`]: 200,
      [`/%77ebhooks/chatwoot/${token}`]: 200,
      [`//webhooks/chatwoot/${token}`]: 404,
      [`/webhooks/chatwoot/${token}/`]: 404,
    };
    for (const [target, status] of Object.entries(oddTargets)) {
      const odd = await rawRequest(baseUrl, {
        method: 'POST',
        target,
        headers: signedHeaders,
        body,
      });
      expect({ target, status: odd.status }).toEqual({ target, status });
    }
    await waitFor(() => sink.requests.length === 1, 20_000);
    const delivered = sink.requests[0];
    // Other suites' subscriptions may still be in the shared database; wait for this one's line.
    const ownAttempt = (line: Record<string, any>) =>
      line.msg === 'delivery attempt' && line.subscriptionId === subscription.body.id;
    await waitFor(() => jsonLines().some(ownAttempt), 10_000);
    await router.stop();

    for (const secret of [
      source.body.token,
      TEST_ADMIN_KEY,
      signature,
      signature.slice('sha256='.length),
      SIGNING_SECRET,
      subscription.body.secret,
      subscription.body.secret.replace(/^whsec_/, ''),
      String(delivered.headers['webhook-signature']),
      'cookie-secret-value',
    ]) {
      expect(router.output).not.toContain(secret);
    }

    const lines = jsonLines();
    expect(lines.length).toBeGreaterThan(5);
    const ingest = lines.find((line) => line.req?.url?.startsWith('/webhooks/'));
    expect(ingest).toMatchObject({
      level: 30,
      reqId: expect.any(String),
      msg: 'POST /webhooks/chatwoot/[token] 200',
      req: { method: 'POST', url: '/webhooks/chatwoot/[token]' },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
      eventId,
    });
    expect(ingest?.req.headers).toBeUndefined();
    const created = lines.find((line) => line.req?.url === '/api/subscriptions');
    expect(created).toMatchObject({ req: { method: 'POST' }, res: { statusCode: 201 } });
    expect(
      lines
        .filter((line) => line.req?.url === '/webhooks/chatwoot/[token]')
        .map((line) => line.msg),
    ).toEqual(['POST /webhooks/chatwoot/[token] 200']);
    expect(lines.map((line) => line.req?.url).filter((url) => url?.includes('[token]'))).toEqual([
      '/webhooks/chatwoot/[token]',
      'http://hooks.example.com/webhooks/chatwoot/[token]',
      '/%77ebhooks/chatwoot/[token]',
      '//webhooks/chatwoot/[token]',
      '/webhooks/chatwoot/[token]/',
    ]);
    expect(router.output).not.toContain('FSTWRN');
    expect(lines.find(ownAttempt)).toMatchObject({
      context: 'DeliveryProcessor',
      eventId,
      deliveryId: expect.stringMatching(/^dlv_/),
      subscriptionId: subscription.body.id,
      attemptInRun: 1,
      statusCode: 200,
      durationMs: expect.any(Number),
      outcome: 'succeeded',
      nextAttemptAt: null,
    });
  });
});
