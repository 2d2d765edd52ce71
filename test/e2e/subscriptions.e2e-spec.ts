import { Webhook } from 'standardwebhooks';
import { newSigningSecret } from '../../src/common/secrets';
import { newId } from '../../src/common/ids';
import { SubscriptionSnapshot } from '../../src/subscriptions/subscription-snapshot';
import { fixtureText } from '../support/fixtures';
import { HttpSink, SinkRequest } from '../support/http-sink';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/**
 * The subscription admin API (issue 4) and the SSRF guard, on real Postgres, Redis and a local
 * HTTP sink. Delivery behaviour (filters, transforms, retries, rate limits, replay, rotation
 * signatures) is proven in delivery-policy.e2e-spec.ts; this file proves the API around it.
 */

type ApiResponse = { status: number; body: any };

const TEST_SCHEDULE = [0.05, 0.05, 0.05, 0.05];
const DAY_MS = 24 * 3600 * 1000;
let messageNumber = 0;

/** The fields a 400 names, in order. */
function fieldsOf(response: ApiResponse): string[] {
  return (response.body?.details ?? []).map((detail: { field: string }) => detail.field);
}

/** The problems a 400 lists for one field, joined; '' when the field is not named. */
function problemsOf(response: ApiResponse, field: string): string {
  const detail = (response.body?.details ?? []).find(
    (entry: { field: string }) => entry.field === field,
  );
  return detail ? detail.problems.join('; ') : '';
}

function expectValidationError(response: ApiResponse, fields: string[]): void {
  expect(response.status).toBe(400);
  expect(response.body).toMatchObject({
    statusCode: 400,
    error: 'validation_failed',
    message: expect.any(String),
  });
  expect(fieldsOf(response)).toEqual(expect.arrayContaining(fields));
}

/** The three Standard Webhooks headers of a request the sink received. */
function signatureHeaders(request: SinkRequest): Record<string, string> {
  return {
    'webhook-id': String(request.headers['webhook-id']),
    'webhook-timestamp': String(request.headers['webhook-timestamp']),
    'webhook-signature': String(request.headers['webhook-signature']),
  };
}

async function createSubscription(
  app: TestApp,
  url: string,
  extra: Record<string, unknown> = {},
): Promise<any> {
  const created = await app.admin('POST', '/api/subscriptions', {
    name: 'CRM',
    url,
    eventTypes: ['*'],
    ...extra,
  });
  expect(created.status).toBe(201);
  return created.body;
}

async function createChatwootSource(app: TestApp): Promise<{ id: string; token: string }> {
  const created = await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'Acme' });
  expect(created.status).toBe(201);
  return created.body;
}

/** Posts a Chatwoot message_created, made unique so dedupe lets each one through. */
async function sendChatwootMessage(app: TestApp, token: string, content?: string): Promise<string> {
  messageNumber += 1;
  const payload = JSON.parse(fixtureText('chatwoot', 'message_created.json'));
  payload.id = 700_000 + messageNumber;
  if (content !== undefined) payload.content = content;
  const response = await app.post(`/webhooks/chatwoot/${token}`, JSON.stringify(payload));
  expect(response.status).toBe(200);
  return ((await response.json()) as { eventId: string }).eventId;
}

/** The event once the worker has stored it (deliveries are created in the same transaction). */
async function storedEvent(app: TestApp, eventId: string): Promise<any> {
  return waitFor(async () => {
    const found = await app.admin('GET', `/api/events/${eventId}`);
    return found.status === 200 ? found.body : null;
  }, 20_000);
}

async function bumpMatcher(app: TestApp): Promise<void> {
  await app.running.context.get(SubscriptionSnapshot).invalidate();
}

/** A subscription row written straight to Postgres, skipping the API's target check. */
async function insertSubscriptionRow(app: TestApp, url: string) {
  const subscription = { id: newId('sub'), secret: newSigningSecret() };
  await app.dataSource.query(
    `INSERT INTO subscriptions (id, name, url, event_types, secret, max_attempts)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [subscription.id, `direct ${url}`, url, ['*'], subscription.secret, 3],
  );
  return subscription;
}

describe('subscriptions API end to end', () => {
  let app: TestApp;
  const sink = new HttpSink();

  beforeAll(async () => {
    // A transform bomb then always dies of the heap cap, never of the deadline on a busy machine.
    app = await startTestApp({ TRANSFORM_TIMEOUT_MS: '30000' });
    await resetDatabase(app.dataSource);
    await sink.start();
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  beforeEach(async () => {
    await app.drainQueues();
    sink.requests.length = 0;
    sink.respondWith([]);
    await app.dataSource.query('TRUNCATE subscriptions CASCADE');
    await bumpMatcher(app);
  });

  describe('create and read', () => {
    it('answers 201 with a whsec_ secret and the effective policies', async () => {
      const created = await app.admin('POST', '/api/subscriptions', {
        name: 'CRM',
        url: `${sink.url}/hook`,
        eventTypes: ['message.*'],
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        id: expect.stringMatching(/^sub_/),
        name: 'CRM',
        url: `${sink.url}/hook`,
        eventTypes: ['message.*'],
        sourceIds: null,
        filter: null,
        transform: null,
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/),
        retryPolicy: {
          maxAttempts: TEST_SCHEDULE.length + 1,
          schedule: TEST_SCHEDULE,
          custom: false,
        },
        timeoutMs: 15000,
        payloadFormat: 'canonical',
        rateLimit: null,
        disableAfterDeadDeliveries: 10,
        consecutiveDeadDeliveries: 0,
        enabled: true,
        disabledReason: null,
        previousSecretExpiresAt: null,
      });
      expect(created.body.retryPolicy.maxAttempts).toBe(5);
    });

    it('never shows the secret on GET or in the list', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const read = await app.admin('GET', `/api/subscriptions/${created.id}`);
      expect(read.status).toBe(200);
      expect(read.body).not.toHaveProperty('secret');
      expect(read.body).toMatchObject({ id: created.id, payloadFormat: 'canonical' });
      const list = await app.admin('GET', '/api/subscriptions');
      expect(list.status).toBe(200);
      expect(list.body.data.map((entry: { id: string }) => entry.id)).toEqual([created.id]);
      expect(list.body.data[0]).not.toHaveProperty('secret');
      const text = JSON.stringify([read.body, list.body]);
      expect(text).not.toContain(created.secret.slice('whsec_'.length));
      expect(text).not.toContain('"secret"');
    });

    it('signs with a secret given on create', async () => {
      const secret = newSigningSecret();
      const created = await createSubscription(app, `${sink.url}/hook`, { secret });
      expect(created.secret).toBe(secret);
      const sent = await app.admin('POST', `/api/subscriptions/${created.id}/test`, {});
      expect(sent.body.succeeded).toBe(true);
      const [request] = sink.requests;
      expect(() =>
        new Webhook(secret).verify(request.body, signatureHeaders(request)),
      ).not.toThrow();
    });
  });

  describe('PATCH', () => {
    it('changes name, url, eventTypes, filter, rateLimit and retryPolicy', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const patched = await app.admin('PATCH', `/api/subscriptions/${created.id}`, {
        name: 'Sheets',
        url: `${sink.url}/other`,
        eventTypes: ['conversation.ended', 'message.*'],
        filter: { 'message.direction': 'inbound' },
        rateLimit: { max: 2, perSeconds: 10 },
        retryPolicy: { maxAttempts: 2, schedule: [1, 2] },
      });
      expect(patched.status).toBe(200);
      const expected = {
        id: created.id,
        name: 'Sheets',
        url: `${sink.url}/other`,
        eventTypes: ['conversation.ended', 'message.*'],
        filter: { 'message.direction': 'inbound' },
        rateLimit: { max: 2, perSeconds: 10 },
        retryPolicy: { maxAttempts: 2, schedule: [1, 2], custom: true },
        payloadFormat: 'canonical',
      };
      expect(patched.body).toMatchObject(expected);
      expect(patched.body).not.toHaveProperty('secret');
      expect((await app.admin('GET', `/api/subscriptions/${created.id}`)).body).toMatchObject(
        expected,
      );
    });

    it('clears filter, transform, rateLimit and retryPolicy with null', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`, {
        filter: { 'message.direction': 'inbound' },
        transform: '{ "text": message.text }',
        rateLimit: { max: 5, perSeconds: 1 },
        retryPolicy: { maxAttempts: 2, schedule: [3] },
      });
      expect(created.payloadFormat).toBe('transformed');
      const cleared = await app.admin('PATCH', `/api/subscriptions/${created.id}`, {
        filter: null,
        transform: null,
        rateLimit: null,
        retryPolicy: null,
      });
      expect(cleared.status).toBe(200);
      expect(cleared.body).toMatchObject({
        filter: null,
        transform: null,
        rateLimit: null,
        retryPolicy: { maxAttempts: 5, schedule: TEST_SCHEDULE, custom: false },
      });
      expect((await app.admin('GET', `/api/subscriptions/${created.id}`)).body).toMatchObject({
        filter: null,
        transform: null,
        rateLimit: null,
        retryPolicy: { custom: false },
      });
    });

    it('switches payloadFormat with the transform: set → transformed, cleared → canonical', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const withTransform = await app.admin('PATCH', `/api/subscriptions/${created.id}`, {
        transform: '{ "text": message.text }',
      });
      expect(withTransform.status).toBe(200);
      expect(withTransform.body).toMatchObject({
        transform: '{ "text": message.text }',
        payloadFormat: 'transformed',
      });
      const withoutTransform = await app.admin('PATCH', `/api/subscriptions/${created.id}`, {
        transform: null,
      });
      expect(withoutTransform.status).toBe(200);
      expect(withoutTransform.body).toMatchObject({ transform: null, payloadFormat: 'canonical' });
    });

    it('refuses payloadFormat "transformed" without a transform, naming transform', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const refused = await app.admin('PATCH', `/api/subscriptions/${created.id}`, {
        payloadFormat: 'transformed',
      });
      expectValidationError(refused, ['transform']);
      const unchanged = await app.admin('GET', `/api/subscriptions/${created.id}`);
      expect(unchanged.body.payloadFormat).toBe('canonical');
    });

    it('answers 404 for an unknown id and 400 for an unknown field or a secret', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const missing = await app.admin('PATCH', '/api/subscriptions/sub_missing', { name: 'x' });
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ statusCode: 404, error: 'not_found' });

      const unknown = await app.admin('PATCH', `/api/subscriptions/${created.id}`, {
        surprise: true,
      });
      expectValidationError(unknown, ['surprise']);

      const secret = await app.admin('PATCH', `/api/subscriptions/${created.id}`, {
        secret: newSigningSecret(),
      });
      expectValidationError(secret, ['secret']);
      expect(problemsOf(secret, 'secret')).toMatch(/should not exist/);
    });

    it('refuses null for a field that cannot be empty (name, url, eventTypes)', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const answers: Record<string, { status: number; fields: string[] }> = {};
      for (const field of ['name', 'url', 'eventTypes']) {
        const response = await app.admin('PATCH', `/api/subscriptions/${created.id}`, {
          [field]: null,
        });
        answers[field] = { status: response.status, fields: fieldsOf(response) };
      }
      expect(answers).toEqual({
        name: { status: 400, fields: ['name'] },
        url: { status: 400, fields: ['url'] },
        eventTypes: { status: 400, fields: ['eventTypes'] },
      });
      const unchanged = await app.admin('GET', `/api/subscriptions/${created.id}`);
      expect(unchanged.body).toMatchObject({ name: 'CRM', eventTypes: ['*'] });
    });
  });

  describe('validation on create', () => {
    it('answers one 400 naming every bad field', async () => {
      const response = await app.admin('POST', '/api/subscriptions', {
        name: 'CRM',
        url: 'ftp://crm.example.com/hook',
        eventTypes: ['message.created', 'Message Created!'],
        filter: { $where: 'this.type === "message.created"' },
        transform: '{ "text": message.text ',
        retryPolicy: { maxAttempts: 0, schedule: [5, -1] },
        rateLimit: { max: 0, perSeconds: 1 },
        timeoutMs: 5,
        headers: { 'x-api-token': 'ok', 'webhook-signature': 'v1,forged' },
        payloadFormat: 'xml',
      });
      const fields = [
        'url',
        'eventTypes',
        'filter',
        'transform',
        'retryPolicy.maxAttempts',
        'retryPolicy.schedule',
        'rateLimit.max',
        'timeoutMs',
        'headers',
        'payloadFormat',
      ];
      expectValidationError(response, fields);
      expect([...fieldsOf(response)].sort()).toEqual([...fields].sort());
      for (const field of fields) expect(response.body.message).toContain(field);
      expect(problemsOf(response, 'filter')).toContain('$where');
      expect(problemsOf(response, 'headers')).toContain('webhook-signature');
      const list = await app.admin('GET', '/api/subscriptions');
      expect(list.body.data).toEqual([]);
    });

    it('names the $regex the linear-time engine refuses, on create and on update', async () => {
      const created = await app.admin('POST', '/api/subscriptions', {
        name: 'CRM',
        url: `${sink.url}/hook`,
        eventTypes: ['*'],
        filter: { 'message.text': { $regex: '(?<!não )pedido', $options: 'i' } },
      });
      expectValidationError(created, ['filter']);
      expect(problemsOf(created, 'filter')).toBe(
        'filter $regex at message.text.$regex uses a negative lookbehind ((?<!…), which the linear-time regex engine cannot run',
      );

      const subscription = await createSubscription(app, `${sink.url}/hook`, {
        filter: { 'message.text': { $regex: '^(\\w+\\s?)+$' } },
      });
      const updated = await app.admin('PATCH', `/api/subscriptions/${subscription.id}`, {
        filter: { $or: [{ 'contact.name': { $regex: '(\\w)\\1' } }] },
      });
      expectValidationError(updated, ['filter']);
      expect(problemsOf(updated, 'filter')).toBe(
        'filter $regex at $or[0].contact.name.$regex uses a backreference (\\1), which the linear-time regex engine cannot run',
      );
      const unchanged = await app.admin('GET', `/api/subscriptions/${subscription.id}`);
      expect(unchanged.body.filter).toEqual({ 'message.text': { $regex: '^(\\w+\\s?)+$' } });
    });

    it('names a filter with an unknown operator', async () => {
      const response = await app.admin('POST', '/api/subscriptions', {
        name: 'CRM',
        url: `${sink.url}/hook`,
        eventTypes: ['*'],
        filter: { 'message.text': { $foo: 'bar' } },
      });
      expectValidationError(response, ['filter']);
      expect(fieldsOf(response)).toEqual(['filter']);
      expect(problemsOf(response, 'filter')).toContain('$foo');
    });
  });

  describe('delivery headers', () => {
    it('refuses headers a delivery cannot carry, naming each one, on create and PATCH', async () => {
      const refused = [
        'Expect',
        'Upgrade',
        'Keep-Alive',
        'TE',
        'Trailer',
        'Connection',
        'Transfer-Encoding',
        'Host',
        'Content-Length',
        'Bad Name',
        'X-Control\u0001',
      ];
      const headers = Object.fromEntries(refused.map((name) => [name, 'x']));
      const created = await app.admin('POST', '/api/subscriptions', {
        name: 'CRM',
        url: `${sink.url}/hook`,
        eventTypes: ['*'],
        headers: { 'X-Fine': 'ok', ...headers },
      });
      expectValidationError(created, ['headers']);
      for (const name of refused)
        expect(problemsOf(created, 'headers')).toContain(JSON.stringify(name));
      expect(problemsOf(created, 'headers')).not.toContain('X-Fine');

      const subscription = await createSubscription(app, `${sink.url}/hook`);
      for (const [name, value] of [
        ...refused.map((name) => [name, 'x']),
        ['X-Value', 'line\u0001break'],
        ['X-Value', 'café…'],
      ]) {
        const patched = await app.admin('PATCH', `/api/subscriptions/${subscription.id}`, {
          headers: { [name]: value },
        });
        expect({ name, status: patched.status }).toEqual({ name, status: 400 });
        expect(problemsOf(patched, 'headers')).toContain(JSON.stringify(name));
      }
      const twice = await app.admin('PATCH', `/api/subscriptions/${subscription.id}`, {
        headers: { 'X-Token': 'a', 'x-token': 'b' },
      });
      expect(problemsOf(twice, 'headers')).toContain('"x-token" is given twice');
      const read = await app.admin('GET', `/api/subscriptions/${subscription.id}`);
      expect(read.body.headers).toEqual({});
    });

    it('shows header values and URL credentials on create only, and delivers the real ones', async () => {
      const token = 'Bearer crm-live-token-0123456789';
      const url = sink.url.replace('http://', 'http://crm-user:crm-pass@') + '/hook';
      const created = await createSubscription(app, url, {
        headers: { Authorization: token, 'X-Tenant': 'acme' },
      });
      expect(created.headers).toEqual({ Authorization: token, 'X-Tenant': 'acme' });
      expect(created.url).toBe(url);

      const masked = {
        url: sink.url.replace('http://', 'http://…:…@') + '/hook',
        headers: { Authorization: '…6789', 'X-Tenant': '…' },
      };
      const read = await app.admin('GET', `/api/subscriptions/${created.id}`);
      expect(read.body).toMatchObject(masked);
      const list = await app.admin('GET', '/api/subscriptions');
      expect(list.body.data[0]).toMatchObject(masked);
      const text = JSON.stringify([read.body, list.body]);
      for (const secret of ['crm-live-token', 'acme', 'crm-pass', 'crm-user']) {
        expect(text).not.toContain(secret);
      }

      const source = await createChatwootSource(app);
      await sendChatwootMessage(app, source.token);
      await waitFor(() => sink.requests.length === 1, 20_000);
      expect(sink.requests[0].headers).toMatchObject({
        authorization: token,
        'x-tenant': 'acme',
      });
    });

    it('keeps the real values when a PATCH sends back what a read showed', async () => {
      const url = sink.url.replace('http://', 'http://crm-user:crm-pass@') + '/hook';
      const created = await createSubscription(app, url, {
        headers: { Authorization: 'Bearer crm-live-token-0123456789', 'X-Tenant': 'acme' },
      });
      const read = (await app.admin('GET', `/api/subscriptions/${created.id}`)).body;

      const patched = await app.admin('PATCH', `/api/subscriptions/${created.id}`, {
        name: 'CRM (renamed)',
        url: read.url,
        headers: { Authorization: read.headers.Authorization, 'x-tenant': 'other-tenant' },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({
        name: 'CRM (renamed)',
        url: read.url,
        headers: { Authorization: '…6789', 'x-tenant': '…' },
      });
      const [row] = await app.dataSource.query(
        'SELECT url, headers FROM subscriptions WHERE id = $1',
        [created.id],
      );
      expect(row).toEqual({
        url,
        headers: { Authorization: 'Bearer crm-live-token-0123456789', 'x-tenant': 'other-tenant' },
      });
    });

    it('refuses a masked value that masks nothing, rather than storing it', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`, {
        headers: { Authorization: 'Bearer crm-live-token-0123456789' },
      });
      for (const body of [
        { headers: { Authorization: '…0000' } },
        { headers: { 'X-New': '…' } },
        { url: sink.url.replace('http://', 'http://…:…@') + '/hook' },
      ]) {
        const patched = await app.admin('PATCH', `/api/subscriptions/${created.id}`, body);
        expect({ body, status: patched.status }).toEqual({ body, status: 400 });
        expect(JSON.stringify(patched.body.details)).toMatch(/masked/);
      }
      const onCreate = await app.admin('POST', '/api/subscriptions', {
        name: 'CRM',
        url: `${sink.url}/hook`,
        eventTypes: ['*'],
        headers: { Authorization: '…' },
      });
      expectValidationError(onCreate, ['headers']);
      const [row] = await app.dataSource.query(
        'SELECT url, headers FROM subscriptions WHERE id = $1',
        [created.id],
      );
      expect(row).toEqual({
        url: `${sink.url}/hook`,
        headers: { Authorization: 'Bearer crm-live-token-0123456789' },
      });
    });
  });

  describe('rotate-secret', () => {
    it('returns a new secret once, the old one in grace for 24 h by default', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const before = Date.now();
      const rotated = await app.admin('POST', `/api/subscriptions/${created.id}/rotate-secret`, {});
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(created.secret);
      const expiresAt = Date.parse(rotated.body.previousSecretExpiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(before + DAY_MS - 1000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + DAY_MS + 1000);

      const read = await app.admin('GET', `/api/subscriptions/${created.id}`);
      expect(read.body).not.toHaveProperty('secret');
      expect(read.body.previousSecretExpiresAt).toBe(rotated.body.previousSecretExpiresAt);
    });

    it('ends the grace at once with graceSeconds 0', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const rotated = await app.admin('POST', `/api/subscriptions/${created.id}/rotate-secret`, {
        graceSeconds: 0,
      });
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.previousSecretExpiresAt).toBeNull();
    });

    it('refuses the current secret as the new one, and an unknown id', async () => {
      const secret = newSigningSecret();
      const created = await createSubscription(app, `${sink.url}/hook`, { secret });
      const same = await app.admin('POST', `/api/subscriptions/${created.id}/rotate-secret`, {
        secret,
      });
      expectValidationError(same, ['secret']);
      const missing = await app.admin('POST', '/api/subscriptions/sub_missing/rotate-secret', {});
      expect(missing.status).toBe(404);
      expect(missing.body.error).toBe('not_found');
    });
  });

  describe('test send', () => {
    it('POSTs one signed canonical sample of the first accepted type and reports the outcome', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`, {
        eventTypes: ['contact.*', 'message.updated'],
      });
      const sent = await app.admin('POST', `/api/subscriptions/${created.id}/test`);
      expect(sent.status).toBe(200);
      // message.updated comes before contact.* in the canonical list.
      expect(sent.body).toMatchObject({
        eventId: expect.stringMatching(/^evt_/),
        eventType: 'message.updated',
        succeeded: true,
        statusCode: 200,
        durationMs: expect.any(Number),
        error: null,
      });
      expect(sink.requests).toHaveLength(1);
      const [request] = sink.requests;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/hook');
      const body = new Webhook(created.secret).verify(
        request.body,
        signatureHeaders(request),
      ) as any;
      expect(request.headers['webhook-id']).toBe(sent.body.eventId);
      expect(body).toMatchObject({
        id: sent.body.eventId,
        type: 'message.updated',
        schemaVersion: 2,
        conversation: expect.any(Object),
      });
    });

    it('sends the type asked for', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const sent = await app.admin('POST', `/api/subscriptions/${created.id}/test`, {
        eventType: 'conversation.ended',
      });
      expect(sent.body).toMatchObject({ eventType: 'conversation.ended', succeeded: true });
      expect(JSON.parse(sink.requests[0].body).type).toBe('conversation.ended');
    });

    it('refuses a sample type that is not a canonical type', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      for (const eventType of ['*', 'message.*', 'foo.bar']) {
        const sent = await app.admin('POST', `/api/subscriptions/${created.id}/test`, {
          eventType,
        });
        expect(sent.status).toBe(400);
        expect(sent.body.details).toEqual([
          { field: 'eventType', problems: ['eventType must be a canonical event type'] },
        ]);
      }
      expect(sink.requests).toHaveLength(0);
    });

    it('reports a failing target', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      sink.respondWith([{ status: 500, body: 'boom' }]);
      const sent = await app.admin('POST', `/api/subscriptions/${created.id}/test`, {});
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({
        succeeded: false,
        statusCode: 500,
        error: 'HTTP 500',
        responseExcerpt: 'boom',
      });
      expect(sink.requests).toHaveLength(1);
    });

    it('sends the transformed body when the subscription has a transform', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`, {
        eventTypes: ['message.created'],
        transform: '{ "kind": type, "text": message.text, "who": contact.name }',
      });
      const sent = await app.admin('POST', `/api/subscriptions/${created.id}/test`, {});
      expect(sent.body.succeeded).toBe(true);
      const [request] = sink.requests;
      const body = new Webhook(created.secret).verify(request.body, signatureHeaders(request));
      expect(body).toEqual({
        kind: 'message.created',
        text: expect.any(String),
        who: expect.any(String),
      });
    });

    it('runs the transform in a sandbox: one that kills it is reported, the API answers on', async () => {
      const bomb = await createSubscription(app, `${sink.url}/hook`, {
        transform:
          '($f := function($s,$i){ $i = 0 ? $s : $f($s & $s, $i - 1) }; {"n": $length($f("x", 27))})',
      });
      const sent = await app.admin('POST', `/api/subscriptions/${bomb.id}/test`, {});
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({ succeeded: false, statusCode: null });
      expect(sent.body.error).toMatch(
        /^transform (needed more than its \d+ MB heap|built a value larger than V8 can hold)$/,
      );
      expect(sink.requests).toHaveLength(0);

      const healthy = await createSubscription(app, `${sink.url}/hook`, {
        transform: '{ "who": contact.name }',
      });
      const after = await app.admin('POST', `/api/subscriptions/${healthy.id}/test`, {});
      expect(after.body).toMatchObject({ succeeded: true, error: null });
      expect(sink.requests).toHaveLength(1);
    });

    it('stores nothing: no event, no delivery', async () => {
      const created = await createSubscription(app, `${sink.url}/hook`);
      const eventsBefore = await app.admin('GET', '/api/events');
      const sent = await app.admin('POST', `/api/subscriptions/${created.id}/test`, {});
      expect(sent.body.succeeded).toBe(true);
      await app.drainQueues();
      expect((await app.admin('GET', '/api/events')).body).toEqual(eventsBefore.body);
      expect((await app.admin('GET', `/api/events/${sent.body.eventId}`)).status).toBe(404);
      const deliveries = await app.admin('GET', `/api/deliveries?subscriptionId=${created.id}`);
      expect(deliveries.body.data).toEqual([]);
      expect(sink.requests).toHaveLength(1);
    });

    it('answers 404 for an unknown subscription', async () => {
      const missing = await app.admin('POST', '/api/subscriptions/sub_missing/test', {});
      expect(missing.status).toBe(404);
      expect(sink.requests).toHaveLength(0);
    });
  });

  describe('admin guard', () => {
    it('answers 401, never 200, to encoded spellings of /api without a key', async () => {
      for (const path of ['/%61pi/sources', '/api/%73ources', '/%61pi/subscriptions']) {
        const response = await fetch(`${app.url}${path}`);
        expect({ path, status: response.status }).toEqual({ path, status: 401 });
        expect(await response.json()).toMatchObject({ statusCode: 401, error: 'unauthorized' });
      }
    });

    it('serves the OpenAPI document without a key', async () => {
      const response = await fetch(`${app.url}/docs/json`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ openapi: expect.any(String) });
    });
  });

  describe('with ALLOW_PRIVATE_TARGETS=false', () => {
    let strict: TestApp;

    beforeAll(async () => {
      strict = await startTestApp({ ALLOW_PRIVATE_TARGETS: 'false' });
    });

    afterAll(async () => {
      await strict?.close();
    });

    const privateUrls = (port: string) => [
      'http://127.0.0.1:9/x',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]:8080/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::127.0.0.1]/',
      'http://[::ffff:0:10.0.0.1]/',
      'http://[64:ff9b::169.254.169.254]/',
      'http://[64:ff9b:1::7f00:1]/',
      'http://[2002:c0a8:101::1]/',
      `http://localhost:${port}/`,
    ];

    it('refuses a private or loopback target on create, naming url', async () => {
      const port = new URL(sink.url).port;
      for (const url of privateUrls(port)) {
        const response = await strict.admin('POST', '/api/subscriptions', {
          name: 'internal',
          url,
          eventTypes: ['*'],
        });
        expect({ url, status: response.status }).toEqual({ url, status: 400 });
        expect({ url, fields: fieldsOf(response) }).toEqual({ url, fields: ['url'] });
        expect(problemsOf(response, 'url')).toMatch(/private or reserved address/);
      }
      expect((await strict.admin('GET', '/api/subscriptions')).body.data).toEqual([]);
    });

    it('accepts a public target, and refuses PATCHing it to a private one', async () => {
      const created = await createSubscription(strict, 'http://93.184.215.14/hook');
      const port = new URL(sink.url).port;
      for (const url of privateUrls(port)) {
        const response = await strict.admin('PATCH', `/api/subscriptions/${created.id}`, { url });
        expect({ url, status: response.status }).toEqual({ url, status: 400 });
        expect(fieldsOf(response)).toEqual(['url']);
      }
      const read = await strict.admin('GET', `/api/subscriptions/${created.id}`);
      expect(read.body.url).toBe('http://93.184.215.14/hook');
    });

    it('refuses at send time a private target stored without the check: dead after one attempt', async () => {
      const port = new URL(sink.url).port;
      const byIp = await insertSubscriptionRow(strict, `http://127.0.0.1:${port}/by-ip`);
      const byName = await insertSubscriptionRow(strict, `http://localhost:${port}/by-name`);
      await bumpMatcher(strict);
      const source = await createChatwootSource(strict);

      const eventId = await sendChatwootMessage(strict, source.token);
      const deliveries: { id: string }[] = await waitFor(async () => {
        const { deliveries: all } = await storedEvent(strict, eventId);
        return all.length === 2 && all.every((delivery: any) => delivery.status === 'dead')
          ? all
          : null;
      }, 20_000);
      await strict.drainQueues();

      const bySubscription = new Map<string, any>();
      for (const delivery of deliveries) {
        const detail = (await strict.admin('GET', `/api/deliveries/${delivery.id}`)).body;
        bySubscription.set(detail.subscriptionId, detail);
      }
      for (const subscription of [byIp, byName]) {
        const detail = bySubscription.get(subscription.id);
        expect(detail).toMatchObject({ status: 'dead', attemptCount: 1 });
        expect(detail.attempts).toHaveLength(1);
        expect(detail.attempts[0].error).toMatch(/^target refused: /);
      }
      expect(sink.requests).toHaveLength(0);
    });
  });

  describe('matching across processes', () => {
    let api: TestApp;
    let source: { id: string; token: string };

    beforeAll(async () => {
      api = await startTestApp({ APP_ROLE: 'api', QUEUE_PREFIX: app.settings.QUEUE_PREFIX });
      source = await createChatwootSource(api);
    });

    afterAll(async () => {
      // Not api.close(): it would obliterate the queues this API shares with `app`.
      await api?.running.close();
    });

    it('applies a change made in another process to the very next event', async () => {
      // Load the worker's index (empty) before the subscription exists, so a stale cache would show.
      await storedEvent(app, await sendChatwootMessage(api, source.token));

      const created = await createSubscription(api, `${sink.url}/cross`, {
        eventTypes: ['message.created'],
      });
      const delivered = await sendChatwootMessage(api, source.token);
      await waitFor(() => sink.requests.length >= 1);
      expect(sink.requests.map((request) => request.headers['webhook-id'])).toEqual([delivered]);

      const disabled = await api.admin('PATCH', `/api/subscriptions/${created.id}`, {
        enabled: false,
      });
      expect(disabled.body.enabled).toBe(false);
      const notDelivered = await sendChatwootMessage(api, source.token);
      expect((await storedEvent(app, notDelivered)).deliveries).toEqual([]);

      expect((await api.admin('DELETE', `/api/subscriptions/${created.id}`)).status).toBe(204);
      await createSubscription(api, `${sink.url}/filtered`, {
        eventTypes: ['message.created'],
        filter: { 'message.text': { $regex: 'pedido' } },
      });
      const filteredOut = await sendChatwootMessage(api, source.token, 'Oi, tudo bem?');
      const wanted = await sendChatwootMessage(api, source.token, 'Meu pedido 4471');
      await waitFor(() => sink.requests.length >= 2);
      await app.drainQueues();
      expect((await storedEvent(app, filteredOut)).deliveries).toEqual([]);
      expect(sink.requests.map((request) => [request.path, request.headers['webhook-id']])).toEqual(
        [
          ['/cross', delivered],
          ['/filtered', wanted],
        ],
      );
    });
  });
});
