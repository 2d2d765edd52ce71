import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalEventProblems } from '../../src/canonical/canonical-event.schema';
import { FakeChatwoot, FakeJivoBotApi } from '../support/fake-platforms';
import { HttpSink } from '../support/http-sink';
import { ManagedProcess, PROJECT_ROOT } from '../support/processes';
import { listAll, resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

const fixture = (path: string) =>
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/fixtures', path), 'utf8'));

/** A Jivo Bot API client message in chat `chatId`, as Jivo posts it to the provider. */
function clientMessage(chatId: string, text: string, extra: object = {}) {
  return {
    ...fixture('jivo/bot_client_message.json'),
    id: `evt-${chatId}-${Math.random().toString(36).slice(2)}`,
    chat_id: chatId,
    client_id: `client-${chatId}`,
    message: { type: 'TEXT', text, timestamp: Math.floor(Date.now() / 1000), ...extra },
  };
}

/** A contact's message in Chatwoot conversation `displayId`, as an agent bot's webhook gets it. */
function chatwootIncoming(displayId: number, text: string) {
  const payload = fixture('chatwoot/message_created.json');
  payload.id = Math.floor(Math.random() * 1e9);
  payload.content = text;
  payload.conversation.id = displayId;
  payload.conversation.status = 'pending';
  payload.conversation.messages[0].content = text;
  payload.conversation.messages[0].id = payload.id;
  payload.conversation.messages[0].conversation_id = displayId;
  return payload;
}

async function actionEnded(app: TestApp, id: string) {
  return waitFor(async () => {
    const answer = await app.admin('GET', `/api/actions/${id}`);
    return answer.body.status !== 'queued' ? answer.body : null;
  }, 20_000);
}

describe('the action API against fake platforms', () => {
  let app: TestApp;
  let jivo: FakeJivoBotApi;
  let chatwoot: FakeChatwoot;
  let jivoBotSource: any;
  let chatwootSource: any;

  beforeAll(async () => {
    jivo = await new FakeJivoBotApi().start();
    chatwoot = await new FakeChatwoot().start();
    app = await startTestApp({
      ACTION_RETRY_BASE_MS: '50',
      ACTION_RETRY_MAX_SECONDS: '3',
      ACTION_MAX_ATTEMPTS: '4',
    });
    await resetDatabase(app.dataSource);
    jivoBotSource = (
      await app.admin('POST', '/api/sources', {
        kind: 'jivo-bot',
        name: 'Jivo bot',
        botApiEndpoint: jivo.endpoint,
      })
    ).body;
    chatwootSource = (
      await app.admin('POST', '/api/sources', {
        kind: 'chatwoot',
        name: 'Chatwoot agent bot',
        apiBaseUrl: chatwoot.url,
        apiAccountId: String(chatwoot.accountId),
        apiAccessToken: chatwoot.botToken,
      })
    ).body;
  });

  afterAll(async () => {
    await app?.close();
    await jivo?.stop();
    await chatwoot?.stop();
  });

  afterEach(() => {
    jivo.respondWith([]);
    chatwoot.respondWith([]);
  });

  /** Posts a Jivo client message and waits until its event is stored. */
  async function jivoSays(chatId: string, text: string, extra: object = {}) {
    const response = await app.post(
      `/webhooks/jivo-bot/${jivoBotSource.token}`,
      JSON.stringify(clientMessage(chatId, text, extra)),
    );
    expect(response.status).toBe(200);
    await app.drainQueues();
    return `jivo-bot:${jivoBotSource.id}:${chatId}`;
  }

  const act = (key: string, action: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${app.url}/api/conversations/${encodeURIComponent(key)}/${action}`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer test-admin-key-0123456789',
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify(body),
    }).then(async (response) => ({
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as any,
    }));

  it('keeps platform credentials write-only: never in the create answer or a read', async () => {
    expect(jivoBotSource).toMatchObject({ hasBotApiEndpoint: true });
    expect(jivoBotSource).not.toHaveProperty('botApiEndpoint');
    expect(chatwootSource).toMatchObject({
      apiBaseUrl: chatwoot.url,
      apiAccountId: '3',
      hasApiAccessToken: true,
    });
    expect(chatwootSource).not.toHaveProperty('apiAccessToken');
    const read = await app.admin('GET', `/api/sources/${chatwootSource.id}`);
    expect(JSON.stringify(read.body)).not.toContain(chatwoot.botToken);
  });

  describe('the FAQ bot loop', () => {
    let bot: ManagedProcess;
    let botKey: any;

    beforeAll(async () => {
      botKey = (await app.admin('POST', '/api/keys', { name: 'faq-bot' })).body;
      bot = new ManagedProcess('faq-bot', {
        args: ['examples/faq-bot/bot.mjs'],
        cwd: PROJECT_ROOT,
        env: { ROUTER_URL: app.url, ROUTER_API_KEY: botKey.key, WEBHOOK_SECRET: '', PORT: '0' },
      });
      await bot.start(/faq-bot listening on/);
      const botUrl = /listening on (\S+)/.exec(bot.output)![1];
      const subscription = await app.admin('POST', '/api/subscriptions', {
        name: 'faq-bot',
        url: botUrl,
        eventTypes: ['message.created'],
        filter: { 'message.direction': 'inbound', 'conversation.status': 'pending' },
      });
      expect(subscription.status).toBe(201);
      await bot.stop();
      bot = new ManagedProcess('faq-bot', {
        args: ['examples/faq-bot/bot.mjs'],
        cwd: PROJECT_ROOT,
        env: {
          ROUTER_URL: app.url,
          ROUTER_API_KEY: botKey.key,
          WEBHOOK_SECRET: subscription.body.secret,
          PORT: new URL(botUrl).port,
        },
      });
      await bot.start(/faq-bot listening on/);
    });

    afterAll(async () => {
      await bot?.stop();
      await app.clearSubscriptions();
    });

    it('Jivo Bot API: CLIENT_MESSAGE → bot → BOT_MESSAGE with buttons; "operator" → INVITE_AGENT', async () => {
      await jivoSays('2037', 'Hello, can you help me?');
      await waitFor(() => jivo.events.length >= 1, 20_000);
      expect(jivo.events[0]).toEqual({
        id: expect.stringMatching(/^act_/),
        client_id: 'client-2037',
        chat_id: '2037',
        event: 'BOT_MESSAGE',
        message: {
          type: 'BUTTONS',
          title: 'How can I help?',
          text: 'How can I help?',
          buttons: [
            { id: 'hours', text: 'Opening hours' },
            { id: 'delivery', text: 'Delivery' },
            { id: 'operator', text: 'Talk to a person' },
          ],
          timestamp: expect.any(Number),
        },
      });
      expect(jivo.requests[0]).toMatchObject({ method: 'POST' });
      expect(jivo.requests[0].headers['content-type']).toMatch(/^application\/json/);

      await jivoSays('2037', 'Talk to a person', { button_id: 'operator' });
      await waitFor(() => jivo.events.some((event) => event.event === 'INVITE_AGENT'), 20_000);
      const [, connecting, invite] = jivo.events;
      expect(connecting).toMatchObject({
        event: 'BOT_MESSAGE',
        message: { type: 'TEXT', text: 'Connecting you to a person…' },
      });
      expect(invite).toEqual({
        id: expect.stringMatching(/^act_/),
        client_id: 'client-2037',
        chat_id: '2037',
        event: 'INVITE_AGENT',
      });
      expect(jivo.problems).toEqual([]);
      const actions = await listAll(
        app,
        `/api/actions?conversationId=${encodeURIComponent(`jivo-bot:${jivoBotSource.id}:2037`)}`,
      );
      expect(actions.map((action) => [action.kind, action.status])).toEqual([
        ['handoff', 'succeeded'],
        ['message', 'succeeded'],
        ['message', 'succeeded'],
      ]);
      // The bot answered by the router's conversation id the event carried.
      const conversationId = actions[0].conversationId;
      expect(conversationId).toMatch(/^conv_/);
      expect(new Set(actions.map((action) => action.conversationId))).toEqual(
        new Set([conversationId]),
      );
      const byId = await listAll(app, `/api/actions?conversationId=${conversationId}`);
      expect(byId.map((action) => action.id)).toEqual(actions.map((action) => action.id));
    });

    it('Chatwoot agent bot: a message with input_select, a handoff (open, bot unassigned), a resolve', async () => {
      const first = chatwoot.addConversation(1042);
      const second = chatwoot.addConversation(1043);
      const say = async (displayId: number, text: string) => {
        const response = await app.post(
          `/webhooks/chatwoot/${chatwootSource.token}`,
          JSON.stringify(chatwootIncoming(displayId, text)),
        );
        expect(response.status).toBe(200);
      };

      await say(1042, 'hi there');
      await waitFor(() => first.messages.length === 1, 20_000);
      expect(first.messages[0]).toEqual({
        content: 'How can I help?',
        message_type: 'outgoing',
        private: false,
        content_type: 'input_select',
        content_attributes: {
          items: [
            { title: 'Opening hours', value: 'hours' },
            { title: 'Delivery', value: 'delivery' },
            { title: 'Talk to a person', value: 'operator' },
          ],
        },
      });
      const toMessages = chatwoot.requests.find((request) => request.path.endsWith('/messages'))!;
      expect(toMessages.path).toBe('/api/v1/accounts/3/conversations/1042/messages');
      expect(toMessages.headers['api_access_token']).toBe(chatwoot.botToken);

      await say(1042, 'Talk to a person');
      await waitFor(() => first.status === 'open' && first.botId === null, 20_000);
      expect(first).toMatchObject({ status: 'open', botId: null, assigneeId: null });
      await waitFor(
        () => chatwoot.requests.filter((r) => r.path.endsWith('/assignments')).length === 1,
      );
      const handoffCalls = chatwoot.requests
        .filter((request) => /toggle_status|assignments/.test(request.path))
        .map((request) => [request.path, request.body]);
      expect(handoffCalls).toEqual([
        ['/api/v1/accounts/3/conversations/1042/toggle_status', { status: 'open' }],
        ['/api/v1/accounts/3/conversations/1042/assignments', { assignee_id: null }],
      ]);

      await say(1043, 'thanks, bye');
      await waitFor(() => second.status === 'resolved', 20_000);
      expect(second.messages.map((message) => message.content)).toEqual(['Glad to help. Goodbye!']);
      expect(chatwoot.problems).toEqual([]);
    });
  });

  describe('failures, each recorded with its attempts', () => {
    it('429 with Retry-After: waits as asked, then succeeds', async () => {
      const key = await jivoSays('3001', 'hi');
      jivo.respondWith([{ status: 429, headers: { 'retry-after': '1' } }]);
      const taken = await act(key, 'messages', { text: 'after the wait' });
      expect(taken.status).toBe(202);
      const ended = await actionEnded(app, taken.body.id);
      expect(ended).toMatchObject({ status: 'succeeded', attemptCount: 2, error: null });
      expect(ended.attempts.map((a: any) => a.statusCode)).toEqual([429, 200]);
      const gap = Date.parse(ended.attempts[1].startedAt) - Date.parse(ended.attempts[0].startedAt);
      expect(gap).toBeGreaterThanOrEqual(950);
      expect(ended.attempts[0].url).toBe(`${jivo.url}/webhooks/${jivo.providerId}/…`);
    });

    it('500 then 200: retried with backoff, succeeds', async () => {
      const key = await jivoSays('3002', 'hi');
      jivo.respondWith([{ status: 500 }]);
      const taken = await act(key, 'messages', { text: 'second time lucky' });
      const ended = await actionEnded(app, taken.body.id);
      expect(ended).toMatchObject({ status: 'succeeded', attemptCount: 2 });
      expect(ended.attempts.map((a: any) => [a.statusCode, a.error])).toEqual([
        [500, 'HTTP 500'],
        [200, null],
      ]);
    });

    it('401 and 404 fail at once: retrying cannot fix them', async () => {
      const key = await jivoSays('3003', 'hi');
      for (const status of [401, 404]) {
        jivo.respondWith([{ status }]);
        const taken = await act(key, 'handoff', {});
        const ended = await actionEnded(app, taken.body.id);
        expect(ended).toMatchObject({
          status: 'failed',
          attemptCount: 1,
          error: `INVITE_AGENT: HTTP ${status}`,
        });
        expect(ended.attempts.map((a: any) => a.statusCode)).toEqual([status]);
      }
    });

    it('a failure on every attempt ends failed after ACTION_MAX_ATTEMPTS', async () => {
      const key = await jivoSays('3004', 'hi');
      jivo.respondWith([{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }]);
      const taken = await act(key, 'messages', { text: 'never arrives' });
      const ended = await actionEnded(app, taken.body.id);
      expect(ended).toMatchObject({
        status: 'failed',
        attemptCount: 4,
        error: 'BOT_MESSAGE: HTTP 503',
      });
    });

    it('makes the outcomes canonical events: action.succeeded and action.failed, routed', async () => {
      const sink = await new HttpSink().start();
      try {
        const subscription = await app.admin('POST', '/api/subscriptions', {
          name: 'outcomes',
          url: sink.url,
          eventTypes: ['action.*'],
        });
        expect(subscription.status).toBe(201);
        // Ordered too: the first outcome is its conversation's head as it is stored.
        const ordered = await app.admin('POST', '/api/subscriptions', {
          name: 'outcomes in order',
          url: `${sink.url}/ordered`,
          eventTypes: ['action.*'],
          ordering: 'conversation',
        });
        expect(ordered.status).toBe(201);
        const key = await jivoSays('3005', 'hi');
        jivo.respondWith([{ status: 401 }]);
        const failed = await act(key, 'messages', { text: 'refused' });
        await actionEnded(app, failed.body.id);
        const succeeded = await act(key, 'messages', { text: 'accepted' });
        await actionEnded(app, succeeded.body.id);
        await waitFor(() => sink.requests.length === 4, 20_000);
        const deliveredAt = (path: string) =>
          sink.requests
            .filter((request) => request.path === path)
            .map((request) => JSON.parse(request.body));
        const delivered = deliveredAt('/');
        for (const events of [delivered, deliveredAt('/ordered')]) {
          expect(events.map((event) => [event.type, event.extensions.action.id])).toEqual([
            ['action.failed', failed.body.id],
            ['action.succeeded', succeeded.body.id],
          ]);
        }
        for (const event of delivered) expect(canonicalEventProblems(event)).toEqual([]);
        expect(delivered[0]).toMatchObject({
          source: { kind: 'jivo-bot', id: jivoBotSource.id, event: 'action.failed' },
          conversation: { key, externalId: '3005' },
          message: { externalId: failed.body.id, text: 'refused', status: 'failed' },
          extensions: {
            action: { status: 'failed', attempts: 1, error: 'BOT_MESSAGE: HTTP 401' },
          },
        });
        const action = await app.admin('GET', `/api/actions/${failed.body.id}`);
        expect(action.body.outcomeEventId).toBe(delivered[0].id);
        const stored = await app.admin('GET', `/api/events/${delivered[0].id}`);
        expect(stored.body.event).toEqual(delivered[0]);
      } finally {
        await app.clearSubscriptions();
        await sink.stop();
      }
    });
  });

  it('sends the actions of one conversation in the order they were made', async () => {
    const key = await jivoSays('3100', 'hi');
    jivo.respondWith([{ status: 500 }]);
    const before = jivo.events.length;
    const taken = [];
    for (const text of ['one', 'two', 'three', 'four']) {
      taken.push(await act(key, 'messages', { text }));
    }
    for (const action of taken) await actionEnded(app, action.body.id);
    const texts = jivo.events.slice(before).map((event) => event.message.text);
    expect(texts).toEqual(['one', 'two', 'three', 'four']);
  });

  describe('Idempotency-Key', () => {
    it('answers a repeated request with the first action: one action, one call', async () => {
      const key = await jivoSays('3200', 'hi');
      const before = jivo.requests.length;
      const headers = { 'idempotency-key': 'reply-evt-1' };
      const first = await act(key, 'messages', { text: 'only once' }, headers);
      const again = await act(key, 'messages', { text: 'only once' }, headers);
      expect(first.status).toBe(202);
      expect(again.status).toBe(202);
      expect(again.body.id).toBe(first.body.id);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      await actionEnded(app, first.body.id);
      const actions = await listAll(app, `/api/actions?conversationId=${encodeURIComponent(key)}`);
      expect(actions).toHaveLength(1);
      expect(jivo.requests.length - before).toBe(1);
    });

    it('is one action whether the conversation is named by its conv_ id or its key', async () => {
      const key = await jivoSays('3202', 'hi');
      const before = jivo.requests.length;
      const headers = { 'idempotency-key': 'reply-evt-3' };
      const byKey = await act(key, 'messages', { text: 'either way' }, headers);
      expect(byKey.status).toBe(202);
      expect(byKey.body.conversationId).toMatch(/^conv_/);
      const byId = await act(
        byKey.body.conversationId,
        'messages',
        { text: 'either way' },
        headers,
      );
      expect(byId.status).toBe(202);
      expect(byId.body.id).toBe(byKey.body.id);
      expect(byId.headers.get('idempotent-replayed')).toBe('true');
      await actionEnded(app, byKey.body.id);
      expect(jivo.requests.length - before).toBe(1);

      // And the other way round: first by id, then by key.
      const other = { 'idempotency-key': 'reply-evt-4' };
      const first = await act(byKey.body.conversationId, 'messages', { text: 'again' }, other);
      const second = await act(key, 'messages', { text: 'again' }, other);
      expect([first.status, second.status]).toEqual([202, 202]);
      expect(second.body.id).toBe(first.body.id);

      // The same key on another conversation is another request.
      const elsewhere = await act(
        await jivoSays('3203', 'hi'),
        'messages',
        { text: 'again' },
        other,
      );
      expect(elsewhere.status).toBe(422);
    });

    it('refuses another request under a used key with 422', async () => {
      const key = await jivoSays('3201', 'hi');
      const headers = { 'idempotency-key': 'reply-evt-2' };
      expect((await act(key, 'messages', { text: 'first' }, headers)).status).toBe(202);
      const other = await act(key, 'messages', { text: 'something else' }, headers);
      expect(other.status).toBe(422);
      expect(other.body).toMatchObject({ error: 'unprocessable' });
    });
  });

  describe('scoped keys', () => {
    const as = (key: string, method: string, path: string, body?: unknown) =>
      fetch(`${app.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it('cannot read sources or subscriptions (403) but can act and read actions', async () => {
      const minted = await app.admin('POST', '/api/keys', { name: 'bot' });
      expect(minted.status).toBe(201);
      expect(minted.body.key).toMatch(/^key_[0-9A-Z]{26}\./);
      for (const path of ['/api/sources', '/api/subscriptions', '/api/events', '/api/keys']) {
        const response = await as(minted.body.key, 'GET', path);
        expect({ path, status: response.status }).toEqual({ path, status: 403 });
      }
      expect((await as(minted.body.key, 'POST', '/api/keys', { name: 'x' })).status).toBe(403);
      const key = await jivoSays('3300', 'hi');
      const path = `/api/conversations/${encodeURIComponent(key)}/messages`;
      const taken = await as(minted.body.key, 'POST', path, { text: 'from the bot' });
      expect(taken.status).toBe(202);
      const { id } = (await taken.json()) as { id: string };
      expect((await as(minted.body.key, 'GET', `/api/actions/${id}`)).status).toBe(200);

      const listed = await app.admin('GET', '/api/keys');
      const shown = listed.body.data.find((k: any) => k.id === minted.body.id);
      expect(shown).not.toHaveProperty('key');
      expect(JSON.stringify(listed.body)).not.toContain(minted.body.key.split('.')[1]);

      expect((await app.admin('DELETE', `/api/keys/${minted.body.id}`)).status).toBe(204);
      expect((await as(minted.body.key, 'POST', path, { text: 'revoked' })).status).toBe(401);
    });

    it("refuses a key limited to other sources on this source's conversations", async () => {
      const minted = await app.admin('POST', '/api/keys', {
        name: 'chatwoot only',
        sourceIds: [chatwootSource.id],
      });
      const key = await jivoSays('3301', 'hi');
      const response = await as(
        minted.body.key,
        'POST',
        `/api/conversations/${encodeURIComponent(key)}/messages`,
        { text: 'not mine' },
      );
      expect(response.status).toBe(403);
    });

    it('refuses a wrong secret with 401', async () => {
      const minted = await app.admin('POST', '/api/keys', { name: 'bot' });
      const forged = `${minted.body.id}.${'A'.repeat(43)}`;
      expect((await as(forged, 'GET', '/api/actions')).status).toBe(401);
    });
  });

  it('takes a handoff without a body', async () => {
    const key = await jivoSays('3500', 'hi');
    const response = await fetch(
      `${app.url}/api/conversations/${encodeURIComponent(key)}/handoff`,
      { method: 'POST', headers: { authorization: 'Bearer test-admin-key-0123456789' } },
    );
    expect(response.status).toBe(202);
    const ended = await actionEnded(app, ((await response.json()) as { id: string }).id);
    expect(ended).toMatchObject({ kind: 'handoff', status: 'succeeded' });
  });

  describe('what a kind cannot do', () => {
    it('answers 409 naming the capabilities of a jivo (Webhooks API) conversation', async () => {
      const source = (await app.admin('POST', '/api/sources', { kind: 'jivo', name: 'Jivo' })).body;
      const webhook = readFileSync(join(PROJECT_ROOT, 'examples/webhooks/jivo/chat_accepted.json'));
      expect((await app.post(`/webhooks/jivo/${source.token}`, webhook)).status).toBe(200);
      await app.drainQueues();
      const [event] = await listAll(app, `/api/events?sourceId=${source.id}`);
      const answer = await act(event.conversationKey, 'messages', { text: 'hello?' });
      expect(answer.status).toBe(409);
      expect(answer.body).toEqual({
        statusCode: 409,
        error: 'conflict',
        message: 'A jivo conversation cannot take "message": the jivo kind can take no action',
        details: { sourceKind: 'jivo', capabilities: [] },
      });
    });

    it('answers 409 for what the platform lacks, and 404 for an unknown conversation', async () => {
      const key = await jivoSays('3400', 'hi');
      const status = await act(key, 'status', { status: 'resolved' });
      expect(status.status).toBe(409);
      expect(status.body.details).toEqual({
        sourceKind: 'jivo-bot',
        capabilities: ['message', 'handoff'],
      });
      const note = await act(key, 'messages', { text: 'psst', private: true });
      expect(note.status).toBe(409);
      expect((await act(`jivo-bot:${jivoBotSource.id}:nope`, 'handoff', {})).status).toBe(404);
      expect((await act(key, 'messages', { text: '' })).status).toBe(400);
    });
  });
});

describe('platform URLs and the SSRF guard', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ ALLOW_PRIVATE_TARGETS: 'false' });
  });

  afterAll(() => app?.close());

  it('refuses a platform API on a private address when sources are made or changed', async () => {
    const created = await app.admin('POST', '/api/sources', {
      kind: 'chatwoot',
      name: 'inside',
      apiBaseUrl: 'http://127.0.0.1:3000',
    });
    expect(created.status).toBe(400);
    expect(created.body.details).toEqual([
      { field: 'apiBaseUrl', problems: [expect.stringMatching(/private|loopback|reserved/)] },
    ]);
    const source = (await app.admin('POST', '/api/sources', { kind: 'jivo-bot', name: 'x' })).body;
    const changed = await app.admin('PATCH', `/api/sources/${source.id}`, {
      botApiEndpoint: 'http://169.254.169.254/latest/meta-data',
    });
    expect(changed.status).toBe(400);
    expect(changed.body.details[0].field).toBe('botApiEndpoint');
  });
});
