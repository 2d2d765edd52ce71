import { Webhook } from 'standardwebhooks';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

describe('router end to end (API and worker in one process, real Postgres and Redis)', () => {
  let app: TestApp;
  const sink = new HttpSink();

  beforeAll(async () => {
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    await sink.start();
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  beforeEach(async () => {
    sink.requests.length = 0;
    sink.respondWith([]);
    await app.clearSubscriptions();
  });

  async function createSource(kind: string, extra: Record<string, unknown> = {}) {
    const created = await app.admin('POST', '/api/sources', {
      kind,
      name: `${kind} test`,
      ...extra,
    });
    expect(created.status).toBe(201);
    return created.body as { id: string; token: string; url: string };
  }

  async function createSubscription(extra: Record<string, unknown> = {}) {
    const created = await app.admin('POST', '/api/subscriptions', {
      name: 'CRM',
      url: `${sink.url}/hook`,
      eventTypes: ['*'],
      ...extra,
    });
    expect(created.status).toBe(201);
    return created.body as { id: string; secret: string };
  }

  it('routes a Jivo and a Chatwoot webhook to a subscriber as signed canonical events', async () => {
    const jivo = await createSource('jivo');
    const chatwoot = await createSource('chatwoot');
    const subscription = await createSubscription({
      eventTypes: ['conversation.accepted', 'message.*'],
    });
    expect(subscription.secret).toMatch(/^whsec_/);

    const jivoResponse = await app.post(
      `/webhooks/jivo/${jivo.token}`,
      fixtureText('jivo', 'chat_accepted.json'),
    );
    expect(jivoResponse.status).toBe(200);
    expect(await jivoResponse.json()).toEqual({ result: 'ok' });

    const chatwootResponse = await app.post(
      `/webhooks/chatwoot/${chatwoot.token}`,
      fixtureText('chatwoot', 'message_created.json'),
    );
    expect(chatwootResponse.status).toBe(200);
    const accepted = (await chatwootResponse.json()) as { eventId: string };
    expect(accepted).toEqual({ status: 'accepted', eventId: expect.stringMatching(/^evt_/) });

    await waitFor(() => sink.requests.length >= 2);
    await app.drainQueues();
    expect(sink.requests).toHaveLength(2);

    const verifier = new Webhook(subscription.secret);
    const events = sink.requests.map((request) => {
      expect(request.headers['content-type']).toBe('application/json');
      const headers = {
        'webhook-id': String(request.headers['webhook-id']),
        'webhook-timestamp': String(request.headers['webhook-timestamp']),
        'webhook-signature': String(request.headers['webhook-signature']),
      };
      const event = verifier.verify(request.body, headers) as any;
      expect(headers['webhook-id']).toBe(event.id);
      return event;
    });
    const byType = Object.fromEntries(events.map((event) => [event.type, event]));

    const acceptedChat = byType['conversation.accepted'];
    expect(acceptedChat.source).toEqual({
      kind: 'jivo',
      id: jivo.id,
      event: 'chat_accepted',
      deliveryId: null,
    });
    expect(acceptedChat.conversation.key).toBe(`jivo:${jivo.id}:7636`);
    expect(acceptedChat.contact.email).toBe('email@example.com');
    expect(acceptedChat.contact.phoneE164).toBe('+14084987855');
    expect(acceptedChat.schemaVersion).toBe(2);

    const message = byType['message.created'];
    expect(message.id).toBe(accepted.eventId);
    expect(message.source.kind).toBe('chatwoot');
    expect(message.conversation.key).toBe(`chatwoot:${chatwoot.id}:1042`);
    expect(message.contact.email).toBe('maria.souza@example.com');
    expect(message.message.direction).toBe('inbound');
    expect(message.message.text).toBe("Here's the screenshot from my bank app");

    const stored = await app.admin('GET', `/api/events/${accepted.eventId}`);
    expect(stored.status).toBe(200);
    expect(stored.body.raw).toEqual(JSON.parse(fixtureText('chatwoot', 'message_created.json')));
    expect(stored.body.event.type).toBe('message.created');
    expect(stored.body.deliveries).toEqual([
      expect.objectContaining({
        subscriptionId: subscription.id,
        status: 'succeeded',
        attemptCount: 1,
      }),
    ]);
  });

  it('does not deliver events a subscription does not ask for', async () => {
    const jivo = await createSource('jivo');
    const chatwoot = await createSource('chatwoot');
    await createSubscription({ eventTypes: ['message.*'], sourceIds: [chatwoot.id] });
    const response = await app.post(
      `/webhooks/jivo/${jivo.token}`,
      fixtureText('jivo', 'chat_accepted.json'),
    );
    expect(response.status).toBe(200);
    await waitFor(async () => {
      const events = await app.admin('GET', `/api/events?sourceId=${jivo.id}`);
      return events.body.data.length === 1;
    });
    await app.drainQueues();
    expect(sink.requests).toHaveLength(0);
  });

  it('retries a failing target with backoff, same webhook-id, recording every attempt', async () => {
    const jivo = await createSource('jivo');
    const subscription = await createSubscription();
    sink.respondWith([
      { status: 500, body: 'boom' },
      { status: 500, body: 'boom again' },
    ]);

    const response = await app.post(
      `/webhooks/jivo/${jivo.token}`,
      fixtureText('jivo', 'chat_accepted.json'),
    );
    expect(response.status).toBe(200);
    await waitFor(() => sink.requests.length >= 3);
    await app.drainQueues();

    expect(sink.requests).toHaveLength(3);
    const ids = new Set(sink.requests.map((request) => request.headers['webhook-id']));
    expect(ids.size).toBe(1);
    const verifier = new Webhook(subscription.secret);
    for (const request of sink.requests) {
      expect(() =>
        verifier.verify(request.body, request.headers as Record<string, string>),
      ).not.toThrow();
    }

    const deliveries = await app.admin('GET', `/api/deliveries?subscriptionId=${subscription.id}`);
    expect(deliveries.body.data).toHaveLength(1);
    const delivery = await app.admin('GET', `/api/deliveries/${deliveries.body.data[0].id}`);
    expect(delivery.body).toMatchObject({
      status: 'succeeded',
      attemptCount: 3,
      lastStatusCode: 200,
    });
    expect(delivery.body.attempts.map((attempt: any) => attempt.statusCode)).toEqual([
      500, 500, 200,
    ]);
    expect(delivery.body.attempts.map((attempt: any) => attempt.attemptNumber)).toEqual([1, 2, 3]);
    expect(delivery.body.attempts[0]).toMatchObject({
      succeeded: false,
      error: 'HTTP 500',
      responseExcerpt: 'boom',
    });
  });

  it('marks a delivery dead once its attempts run out', async () => {
    const jivo = await createSource('jivo');
    const subscription = await createSubscription({ retryPolicy: { maxAttempts: 2 } });
    sink.respondWith([], { status: 503, body: 'down' });
    await app.post(`/webhooks/jivo/${jivo.token}`, fixtureText('jivo', 'chat_finished.json'));
    await waitFor(() => sink.requests.length >= 2);
    await app.drainQueues();
    const deliveries = await app.admin(
      'GET',
      `/api/deliveries?subscriptionId=${subscription.id}&status=dead`,
    );
    expect(deliveries.body.data).toEqual([
      expect.objectContaining({ status: 'dead', attemptCount: 2, lastStatusCode: 503 }),
    ]);
    expect(sink.requests).toHaveLength(2);
  });

  describe('bad input gets a clear JSON error', () => {
    it('answers 404 for an unknown token or kind, with the same body', async () => {
      const jivo = await createSource('jivo');
      const wrongToken = await app.post('/webhooks/jivo/not-the-token', '{}');
      const wrongKind = await app.post(`/webhooks/zendesk/${jivo.token}`, '{}');
      const otherKind = await app.post(`/webhooks/chatwoot/${jivo.token}`, '{}');
      for (const response of [wrongToken, wrongKind, otherKind]) {
        expect(response.status).toBe(404);
        expect(await response.json()).toEqual({
          statusCode: 404,
          error: 'not_found',
          message: 'Unknown webhook endpoint',
        });
      }
    });

    it('answers 400 for invalid JSON, a non-object or an empty body, and stores nothing', async () => {
      const jivo = await createSource('jivo');
      const invalid = await app.post(`/webhooks/jivo/${jivo.token}`, '{"event_name": "chat_');
      expect(invalid.status).toBe(400);
      expect(await invalid.json()).toMatchObject({
        error: 'invalid_json',
        message: expect.stringContaining('not valid JSON'),
      });
      const array = await app.post(`/webhooks/jivo/${jivo.token}`, '[1,2]');
      expect(array.status).toBe(400);
      expect(await array.json()).toMatchObject({ error: 'invalid_body' });
      const empty = await app.post(`/webhooks/jivo/${jivo.token}`, '');
      expect(empty.status).toBe(400);
      expect(await empty.json()).toMatchObject({ error: 'invalid_body' });
      const events = await app.admin('GET', `/api/events?sourceId=${jivo.id}`);
      expect(events.body.data).toEqual([]);
    });

    it('parses JSON whatever the content type says', async () => {
      const jivo = await createSource('jivo');
      const response = await app.post(
        `/webhooks/jivo/${jivo.token}`,
        fixtureText('jivo', 'chat_updated.json'),
        {
          'content-type': 'text/plain',
        },
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ result: 'ok' });
    });

    it('answers 413 for a body over the limit', async () => {
      const jivo = await createSource('jivo');
      const huge = JSON.stringify({ event_name: 'chat_updated', padding: 'x'.repeat(1024 * 1024) });
      const response = await app.post(`/webhooks/jivo/${jivo.token}`, huge);
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ statusCode: 413, error: 'payload_too_large' });
    });

    it('answers 401 without a valid admin key', async () => {
      const none = await fetch(`${app.url}/api/subscriptions`);
      expect(none.status).toBe(401);
      expect(await none.json()).toMatchObject({ statusCode: 401, error: 'unauthorized' });
      const wrong = await fetch(`${app.url}/api/sources`, {
        headers: { authorization: 'Bearer wrong-key-wrong-key' },
      });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toMatchObject({
        error: 'unauthorized',
        message: 'Invalid admin key',
      });
    });

    it('answers 400 naming every bad field of a subscription', async () => {
      const response = await app.admin('POST', '/api/subscriptions', {
        name: '',
        url: 'not-a-url',
        eventTypes: ['Message.Created'],
        retryPolicy: { maxAttempts: 0 },
        surprise: true,
      });
      expect(response.status).toBe(400);
      expect(response.body.error).toBe('validation_failed');
      const fields = response.body.details.map((detail: any) => detail.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'name',
          'url',
          'eventTypes',
          'retryPolicy.maxAttempts',
          'surprise',
        ]),
      );
    });

    it('answers 400 for invalid JSON on admin routes and 404 for unknown ids', async () => {
      const invalid = await fetch(`${app.url}/api/subscriptions`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer test-admin-key-0123456789',
          'content-type': 'application/json',
        },
        body: '{"name":',
      });
      expect(invalid.status).toBe(400);
      expect(await invalid.json()).toMatchObject({ error: 'invalid_json' });
      const missing = await app.admin('GET', '/api/subscriptions/sub_missing');
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ error: 'not_found' });
    });

    it('refuses an unknown source kind', async () => {
      const response = await app.admin('POST', '/api/sources', { kind: 'zendesk', name: 'x' });
      expect(response.status).toBe(400);
      expect(response.body.details).toEqual([
        { field: 'kind', problems: ['unknown source kind "zendesk"'] },
      ]);
    });
  });

  it('shows a source token only on create and rotate', async () => {
    const jivo = await createSource('jivo');
    expect(jivo.url).toContain(`/webhooks/jivo/${jivo.token}`);
    const read = await app.admin('GET', `/api/sources/${jivo.id}`);
    expect(read.body.token).toBeUndefined();
    expect(read.body.url).not.toContain(jivo.token);
    expect(JSON.stringify(await app.admin('GET', '/api/sources'))).not.toContain(jivo.token);

    const rotated = await app.admin('POST', `/api/sources/${jivo.id}/rotate-token`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.token).not.toBe(jivo.token);
    const oldToken = await app.post(`/webhooks/jivo/${jivo.token}`, '{}');
    expect(oldToken.status).toBe(404);
    const newToken = await app.post(`/webhooks/jivo/${rotated.body.token}`, '{"event_name":"x"}');
    expect(newToken.status).toBe(200);
  });

  it('shows a subscription secret only on create, and deletes subscriptions', async () => {
    const subscription = await createSubscription();
    const read = await app.admin('GET', `/api/subscriptions/${subscription.id}`);
    expect(read.body.secret).toBeUndefined();
    const list = await app.admin('GET', '/api/subscriptions');
    expect(JSON.stringify(list.body)).not.toContain(subscription.secret);
    expect((await app.admin('DELETE', `/api/subscriptions/${subscription.id}`)).status).toBe(204);
    expect((await app.admin('GET', `/api/subscriptions/${subscription.id}`)).status).toBe(404);
  });

  it('stores an event it cannot map, with the reason', async () => {
    const chatwoot = await createSource('chatwoot');
    const response = await app.post(`/webhooks/chatwoot/${chatwoot.token}`, '{"hello":"world"}');
    expect(response.status).toBe(200);
    const { eventId } = (await response.json()) as { eventId: string };
    const stored = await waitFor(async () => {
      const found = await app.admin('GET', `/api/events/${eventId}`);
      return found.status === 200 ? found.body : null;
    });
    expect(stored).toMatchObject({ status: 'unprocessable', event: null, raw: { hello: 'world' } });
    expect(stored.error).toEqual(expect.any(String));
  });
});
