import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { INGEST_QUEUE } from '../../src/queues/queue-names';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const SIGNING_SECRET = '3vQmZ8kT1xYp9cRw5nLb7HsD';

function chatwootHeaders(body: string, secret: string, prefix = 'X-Chatwoot', at = new Date()) {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return {
    'content-type': 'application/json',
    [`${prefix}-Timestamp`]: timestamp,
    [`${prefix}-Signature`]: `sha256=${signature}`,
  };
}

describe('sources: verification, dedupe, enrichment, unknown events', () => {
  let app: TestApp;
  const sink = new HttpSink();
  const crm = new HttpSink();

  beforeAll(async () => {
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    await Promise.all([sink.start(), crm.start()]);
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([sink.stop(), crm.stop()]);
  });

  beforeEach(async () => {
    sink.requests.length = 0;
    crm.requests.length = 0;
    sink.respondWith([]);
    crm.respondWith([]);
    await app.clearSubscriptions();
  });

  async function createSource(body: Record<string, unknown>) {
    const created = await app.admin('POST', '/api/sources', { name: 'test', ...body });
    expect(created.status).toBe(201);
    return created.body;
  }

  async function subscribeAll(sourceId: string) {
    const created = await app.admin('POST', '/api/subscriptions', {
      name: 'all',
      url: `${sink.url}/all`,
      eventTypes: ['*'],
      sourceIds: [sourceId],
    });
    expect(created.status).toBe(201);
    return created.body;
  }

  async function eventsOf(sourceId: string) {
    return (await app.admin('GET', `/api/events?sourceId=${sourceId}`)).body.data as any[];
  }

  describe('Chatwoot signatures', () => {
    const body = fixtureText('chatwoot', 'message_created.outgoing_agent.json');

    it('accepts a request signed over the raw bytes and refuses a tampered one', async () => {
      const source = await createSource({ kind: 'chatwoot', signingSecret: SIGNING_SECRET });
      expect(source.signingSecret).toBe(SIGNING_SECRET);
      expect(
        (await app.admin('GET', `/api/sources/${source.id}`)).body.signingSecret,
      ).toBeUndefined();
      const url = `/webhooks/chatwoot/${source.token}`;

      const signed = await app.post(url, body, chatwootHeaders(body, SIGNING_SECRET));
      expect(signed.status).toBe(200);

      const tamperedBody = body.replace(/"private":\s*false/, '"private": true');
      expect(tamperedBody).not.toBe(body);
      const tampered = await app.post(url, tamperedBody, chatwootHeaders(body, SIGNING_SECRET));
      expect(tampered.status).toBe(401);
      expect(await tampered.json()).toMatchObject({
        error: 'signature_invalid',
        message: 'signature mismatch',
      });

      const unsigned = await app.post(url, body);
      expect(unsigned.status).toBe(401);
      expect(await unsigned.json()).toMatchObject({ error: 'signature_invalid' });

      const stale = await app.post(
        url,
        body,
        chatwootHeaders(body, SIGNING_SECRET, 'X-Chatwoot', new Date(Date.now() - 10 * 60_000)),
      );
      expect(stale.status).toBe(401);
      expect(await stale.json()).toMatchObject({ message: 'timestamp outside tolerance' });

      await waitFor(async () => (await eventsOf(source.id)).length === 1);
    });

    it('verifies the wire bytes of the signature test vector (HTML-escaped JSON)', async () => {
      const { vectors } = JSON.parse(fixtureText('chatwoot', '_signature_test_vectors.json'));
      const vector = vectors.find((candidate: any) => candidate.name === 'tiny_html_escaped');
      const recorded = chatwootHeaders(
        vector.raw_body,
        vector.secret,
        'X-Chatwoot',
        new Date(Number(vector.timestamp) * 1000),
      );
      expect(recorded['X-Chatwoot-Signature']).toBe(vector.expected_signature_header);
      const source = await createSource({ kind: 'chatwoot', signingSecret: vector.secret });
      // Re-signed at the current time: the recorded timestamp is outside the 5-minute window.
      const headers = chatwootHeaders(vector.raw_body, vector.secret);
      const accepted = await app.post(
        `/webhooks/chatwoot/${source.token}`,
        vector.raw_body,
        headers,
      );
      expect(accepted.status).toBe(200);
      const reserialised = JSON.stringify(JSON.parse(vector.raw_body));
      expect(reserialised).not.toBe(vector.raw_body);
      const refused = await app.post(`/webhooks/chatwoot/${source.token}`, reserialised, headers);
      expect(refused.status).toBe(401);
    });

    it('reads the signature headers of a rebranded fork', async () => {
      const source = await createSource({
        kind: 'chatwoot',
        signingSecret: SIGNING_SECRET,
        signatureHeaderPrefix: 'X-Konversio',
      });
      const url = `/webhooks/chatwoot/${source.token}`;
      const konversio = await app.post(
        url,
        body,
        chatwootHeaders(body, SIGNING_SECRET, 'X-Konversio'),
      );
      expect(konversio.status).toBe(200);
      const chatwoot = await app.post(url, body, chatwootHeaders(body, SIGNING_SECRET));
      expect(chatwoot.status).toBe(401);
    });
  });

  describe('dedupe', () => {
    it('answers a replayed Chatwoot delivery as the first and routes it once', async () => {
      const source = await createSource({ kind: 'chatwoot' });
      await subscribeAll(source.id);
      const body = fixtureText('chatwoot', 'message_created.json');
      const headers = {
        'content-type': 'application/json',
        'X-Chatwoot-Delivery': '7c1e9a4b-2f3d-4b8e-a6c5-1d0f9e8b7a23',
      };
      const responses = await Promise.all(
        [1, 2, 3].map(() => app.post(`/webhooks/chatwoot/${source.token}`, body, headers)),
      );
      const bodies = await Promise.all(responses.map((response) => response.json()));
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
      expect(new Set(bodies.map((answer: any) => answer.eventId)).size).toBe(1);

      const another = await app.post(`/webhooks/chatwoot/${source.token}`, body, {
        ...headers,
        'X-Chatwoot-Delivery': '9a3d2c1b-8e7f-4a6b-b5c4-3d2e1f0a9b8c',
      });
      expect(((await another.json()) as any).eventId).not.toBe((bodies[0] as any).eventId);

      await waitFor(() => sink.requests.length >= 2);
      await app.drainQueues();
      expect(sink.requests).toHaveLength(2);
      const events = await eventsOf(source.id);
      expect(events).toHaveLength(2);
    });

    it('answers a replayed signed Chatwoot request as the first, whatever its delivery header', async () => {
      const source = await createSource({ kind: 'chatwoot', signingSecret: SIGNING_SECRET });
      await subscribeAll(source.id);
      const url = `/webhooks/chatwoot/${source.token}`;
      const body = fixtureText('chatwoot', 'message_created.json');
      const signedAt = new Date();
      const captured: Record<string, string> = {
        ...chatwootHeaders(body, SIGNING_SECRET, 'X-Chatwoot', signedAt),
        'X-Chatwoot-Delivery': '5d0c1f6e-3b2a-4e8f-9c7d-6a5b4c3d2e1f',
      };
      const eventIdOf = async (headers: Record<string, string>) => {
        const response = await app.post(url, body, headers);
        expect(response.status).toBe(200);
        return ((await response.json()) as any).eventId as string;
      };
      const first = await eventIdOf(captured);
      const { 'X-Chatwoot-Delivery': _delivery, ...withoutDelivery } = captured;
      const replays = [
        { ...captured, 'X-Chatwoot-Delivery': 'e4f5a6b7-1c2d-4e3f-8a9b-0c1d2e3f4a5b' },
        withoutDelivery,
        { ...captured, 'X-Chatwoot-Delivery': '' },
      ];
      for (const headers of replays) expect(await eventIdOf(headers)).toBe(first);

      // Chatwoot's own retry: same delivery id, signed again a second later.
      const retried: Record<string, string> = {
        ...chatwootHeaders(body, SIGNING_SECRET, 'X-Chatwoot', new Date(signedAt.getTime() + 1000)),
        'X-Chatwoot-Delivery': captured['X-Chatwoot-Delivery'],
      };
      expect(retried['X-Chatwoot-Signature']).not.toBe(captured['X-Chatwoot-Signature']);
      expect(await eventIdOf(retried)).toBe(first);

      // The first's ingest job gone from Redis (with its dedupe id): still the same event.
      const ingest = app.running.context.get<Queue>(getQueueToken(INGEST_QUEUE));
      await waitFor(async () => (await ingest.getJobState(first)) === 'completed');
      await ingest.remove(first);
      expect(
        await eventIdOf({
          ...captured,
          'X-Chatwoot-Delivery': '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
        }),
      ).toBe(first);

      await app.drainQueues();
      expect(sink.requests).toHaveLength(1);
      expect(await eventsOf(source.id)).toEqual([expect.objectContaining({ id: first })]);

      const another = fixtureText('chatwoot', 'message_created.outgoing_agent.json');
      const next = await app.post(url, another, chatwootHeaders(another, SIGNING_SECRET));
      expect(((await next.json()) as any).eventId).not.toBe(first);
      await waitFor(() => sink.requests.length === 2);
    });

    it('dedupes a sender without delivery ids by the body, per source', async () => {
      const first = await createSource({ kind: 'jivo' });
      const second = await createSource({ kind: 'jivo' });
      const body = fixtureText('jivo', 'chat_finished.json');
      for (const token of [first.token, first.token, second.token]) {
        const response = await app.post(`/webhooks/jivo/${token}`, body);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ result: 'ok' });
      }
      await app.drainQueues();
      await waitFor(async () => (await eventsOf(second.id)).length === 1);
      expect(await eventsOf(first.id)).toHaveLength(1);
    });
  });

  describe('Jivo enrichment', () => {
    it("returns the CRM's contact and link to Jivo within the budget, and still queues the event", async () => {
      crm.respondWith([
        {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            contactInfo: { name: 'John Smith (CRM)', email: 'john@crm.example.com' },
            customData: [{ title: 'Open deals', content: '2' }],
            crmLink: 'https://crm.example.com/contacts/42',
            enableAssign: true,
          }),
        },
      ]);
      const source = await createSource({ kind: 'jivo', enrichmentUrl: `${crm.url}/jivo` });
      expect(source.enrichmentSecret).toMatch(/^whsec_/);
      await subscribeAll(source.id);

      const started = Date.now();
      const response = await app.post(
        `/webhooks/jivo/${source.token}`,
        fixtureText('jivo', 'chat_accepted.json'),
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        result: 'ok',
        contact_info: { name: 'John Smith (CRM)', email: 'john@crm.example.com' },
        custom_data: [{ title: 'Open deals', content: '2' }],
        crm_link: 'https://crm.example.com/contacts/42',
        enable_assign: true,
      });
      expect(Date.now() - started).toBeLessThan(2000);

      expect(crm.requests).toHaveLength(1);
      const asked = new Webhook(source.enrichmentSecret).verify(
        crm.requests[0].body,
        crm.requests[0].headers as Record<string, string>,
      ) as any;
      expect(asked.type).toBe('conversation.accepted');
      expect(asked.contact.email).toBe('email@example.com');

      await waitFor(() => sink.requests.length === 1);
      expect(JSON.parse(sink.requests[0].body).id).toBe(asked.id);
    });

    it('answers a duplicate with the enriched reply the first got, asking the CRM once', async () => {
      crm.respondWith([
        {
          status: 200,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ crmLink: 'https://crm.example.com/contacts/7' }),
          delayMs: 300,
        },
      ]);
      const source = await createSource({ kind: 'jivo', enrichmentUrl: `${crm.url}/jivo` });
      await subscribeAll(source.id);
      const body = fixtureText('jivo', 'chat_accepted.json');
      // The second arrives while the first is still waiting for the CRM.
      const [first, second] = await Promise.all([
        app.post(`/webhooks/jivo/${source.token}`, body),
        new Promise((resolve) => setTimeout(resolve, 100)).then(() =>
          app.post(`/webhooks/jivo/${source.token}`, body),
        ),
      ]);
      const enriched = { result: 'ok', crm_link: 'https://crm.example.com/contacts/7' };
      expect(await first.json()).toEqual(enriched);
      expect(await second.json()).toEqual(enriched);
      expect(crm.requests).toHaveLength(1);
      await app.drainQueues();
      expect(await eventsOf(source.id)).toHaveLength(1);
    });

    it('answers {"result":"ok"} when the CRM is slow, and still routes the event', async () => {
      crm.respondWith([], {
        status: 200,
        body: '{"crmLink":"https://late.example.com"}',
        delayMs: 3000,
      });
      const source = await createSource({
        kind: 'jivo',
        enrichmentUrl: `${crm.url}/slow`,
        enrichmentTimeoutMs: 300,
      });
      await subscribeAll(source.id);
      const started = Date.now();
      const response = await app.post(
        `/webhooks/jivo/${source.token}`,
        fixtureText('jivo', 'chat_updated.json'),
      );
      expect(await response.json()).toEqual({ result: 'ok' });
      expect(Date.now() - started).toBeLessThan(1500);
      await waitFor(() => sink.requests.length === 1);
    });

    it('does not ask the CRM for events Jivo does not show to the agent', async () => {
      const source = await createSource({ kind: 'jivo', enrichmentUrl: `${crm.url}/jivo` });
      const response = await app.post(
        `/webhooks/jivo/${source.token}`,
        fixtureText('jivo', 'chat_finished.json'),
      );
      expect(await response.json()).toEqual({ result: 'ok' });
      expect(crm.requests).toHaveLength(0);
    });

    it('answers {"result":"ok"} when the CRM fails', async () => {
      crm.respondWith([{ status: 500, body: 'down' }]);
      const source = await createSource({ kind: 'jivo', enrichmentUrl: `${crm.url}/jivo` });
      const response = await app.post(
        `/webhooks/jivo/${source.token}`,
        fixtureText('jivo', 'chat_accepted.json'),
      );
      expect(await response.json()).toEqual({ result: 'ok' });
    });
  });

  it('updates a source: allow-list at once, enrichment secret shown once, bad fields named', async () => {
    const source = await createSource({ kind: 'jivo' });
    const body = fixtureText('jivo', 'chat_accepted.json');
    const restricted = await app.admin('PATCH', `/api/sources/${source.id}`, {
      name: 'renamed',
      allowedChannelIds: ['1111'],
    });
    expect(restricted.body).toMatchObject({ name: 'renamed', allowedChannelIds: ['1111'] });
    expect((await app.post(`/webhooks/jivo/${source.token}`, body)).status).toBe(401);

    const enriched = await app.admin('PATCH', `/api/sources/${source.id}`, {
      allowedChannelIds: [],
      enrichmentUrl: `${crm.url}/jivo`,
    });
    expect(enriched.body.enrichmentSecret).toMatch(/^whsec_/);
    const read = await app.admin('GET', `/api/sources/${source.id}`);
    expect(read.body).toMatchObject({ enrichmentUrl: `${crm.url}/jivo` });
    expect(read.body.enrichmentSecret).toBeUndefined();
    expect((await app.post(`/webhooks/jivo/${source.token}`, body)).status).toBe(200);
    expect(crm.requests).toHaveLength(1);

    const stopped = await app.admin('PATCH', `/api/sources/${source.id}`, { enrichmentUrl: null });
    expect(stopped.body.enrichmentUrl).toBeNull();

    const invalid = await app.admin('PATCH', `/api/sources/${source.id}`, {
      enrichmentUrl: 'ftp://crm',
      enrichmentTimeoutMs: 50,
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.details.map((detail: any) => detail.field).sort()).toEqual([
      'enrichmentTimeoutMs',
      'enrichmentUrl',
    ]);
  });

  it('refuses a Jivo widget outside the allow-list', async () => {
    const source = await createSource({ kind: 'jivo', allowedChannelIds: ['1111'] });
    const response = await app.post(
      `/webhooks/jivo/${source.token}`,
      fixtureText('jivo', 'chat_accepted.json'),
    );
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      message: 'widget_id "3948" is not allowed on this source',
    });
  });

  it('stores and routes an event whose name and ids carry a NUL character', async () => {
    const source = await createSource({ kind: 'jivo' });
    await subscribeAll(source.id);
    const raw = '{"event_name":"chat_\\u0000rated","chat_id":"77\\u0000"}';
    const response = await app.post(`/webhooks/jivo/${source.token}`, raw);
    expect(response.status).toBe(200);
    await waitFor(() => sink.requests.length === 1);
    const delivered = JSON.parse(sink.requests[0].body);
    expect(delivered.source.event).toBe('chat_\u0000rated');
    const stored = await app.admin('GET', `/api/events/${delivered.id}`);
    expect(stored.body).toMatchObject({ sourceEvent: 'chat_rated', raw: JSON.parse(raw) });
  });

  it('stores and dedupes a Bot API event whose delivery id carries a NUL character', async () => {
    const source = await createSource({ kind: 'jivo-bot' });
    await subscribeAll(source.id);
    const raw = '{"id":"evt\\u00001","event":"CHAT_CLOSED","chat_id":"c1"}';
    const first = await app.post(`/webhooks/jivo-bot/${source.token}`, raw);
    expect(first.status).toBe(200);
    const replay = await app.post(`/webhooks/jivo-bot/${source.token}`, raw);
    expect(await replay.json()).toEqual(await first.json());
    await waitFor(() => sink.requests.length === 1);
    const delivered = JSON.parse(sink.requests[0].body);
    expect(delivered.source.deliveryId).toBe('evt\u00001');
    await app.drainQueues();
    expect(sink.requests).toHaveLength(1);
    expect(await eventsOf(source.id)).toHaveLength(1);
  });

  it('routes unknown event names as source.unknown, raw payload kept', async () => {
    const source = await createSource({ kind: 'jivo' });
    await subscribeAll(source.id);
    const payload = { event_name: 'chat_rated', chat_id: 77, rating: 5 };
    const response = await app.post(`/webhooks/jivo/${source.token}`, JSON.stringify(payload));
    expect(response.status).toBe(200);
    await waitFor(() => sink.requests.length === 1);
    const delivered = JSON.parse(sink.requests[0].body);
    expect(delivered.type).toBe('source.unknown');
    expect(delivered.source.event).toBe('chat_rated');
    const stored = await app.admin('GET', `/api/events/${delivered.id}`);
    expect(stored.body.raw).toEqual(payload);
    expect(stored.body.status).toBe('routed');
  });
});
