import { CONSOLE_CONTENT_SECURITY_POLICY } from '../../src/console/console-host';
import { ensureConsoleBuilt } from '../support/console-build';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/**
 * What the console stands on: its files served at /console, and the admin endpoints it added
 * (overview, playground, re-drive preview, text search), each guarded like the rest of /api.
 */
describe('console: hosting and the admin endpoints it uses', () => {
  let app: TestApp;
  const sink = new HttpSink();
  let sourceToken: string;
  let subscriptionId: string;
  let eventId: string;

  beforeAll(async () => {
    ensureConsoleBuilt();
    await sink.start();
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    const source = await app.admin('POST', '/api/sources', { kind: 'chatwoot', name: 'Support' });
    sourceToken = source.body.token;
    sink.respondWith([], { status: 500, body: 'down for maintenance' });
    const subscription = await app.admin('POST', '/api/subscriptions', {
      name: 'CRM',
      url: `${sink.url}/crm`,
      eventTypes: ['message.*'],
      retryPolicy: { maxAttempts: 2 },
    });
    subscriptionId = subscription.body.id;
    const accepted = await app.post(
      `/webhooks/chatwoot/${sourceToken}`,
      fixtureText('chatwoot', 'message_created.json'),
    );
    eventId = ((await accepted.json()) as { eventId: string }).eventId;
    await waitFor(async () => {
      const deliveries = await app.admin('GET', `/api/deliveries?eventId=${eventId}`);
      return deliveries.body.data?.[0]?.status === 'dead';
    }, 20_000);
  });

  afterAll(async () => {
    await app?.close();
    await sink.stop();
  });

  describe('static files', () => {
    it('serves the console at /console with a strict Content-Security-Policy', async () => {
      const page = await fetch(`${app.url}/console/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CONTENT_SECURITY_POLICY);
      const html = await page.text();
      expect(html).toContain('<div id="root"></div>');
      expect(html).not.toMatch(/<script>|https?:\/\//);
      const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)![1];
      const asset = await fetch(`${app.url}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
      expect(asset.headers.get('cache-control')).toContain('immutable');
    });

    it('answers a deep link with the page, and a missing asset with a 404', async () => {
      const deep = await fetch(`${app.url}/console/events/${eventId}`);
      expect(deep.status).toBe(200);
      expect(await deep.text()).toContain('<div id="root"></div>');
      expect((await fetch(`${app.url}/console`)).status).toBe(200);
      const missing = await fetch(`${app.url}/console/assets/nothing-here.js`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(/json/);
    });

    it('adds no header to the webhook route', async () => {
      const answer = await app.post(
        `/webhooks/chatwoot/${sourceToken}`,
        fixtureText('chatwoot', 'conversation_created.json'),
      );
      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-security-policy')).toBeNull();
    });
  });

  describe('GET /api/overview', () => {
    it('counts events and deliveries per bucket and names the failing subscription', async () => {
      const answer = await app.admin('GET', '/api/overview');
      expect(answer.status).toBe(200);
      const overview = answer.body;
      expect(overview.window).toBe('hour');
      expect(overview.bucketSeconds).toBe(300);
      expect(overview.events).toHaveLength(12);
      expect(overview.deliveries).toHaveLength(12);
      const total = (rows: Record<string, number>[], key: string) =>
        rows.reduce((sum, row) => sum + row[key], 0);
      expect(total(overview.events, 'routed')).toBeGreaterThanOrEqual(1);
      expect(total(overview.deliveries, 'dead')).toBe(1);
      expect(new Date(overview.until).getTime()).toBeGreaterThan(Date.now());
      expect(overview.failingSubscriptions).toEqual([
        {
          id: subscriptionId,
          name: 'CRM',
          enabled: true,
          failed: 0,
          dead: 1,
          lastError: 'HTTP 500',
        },
      ]);
      expect(overview.disabledSubscriptions).toEqual([]);
    });

    it('cuts a day into 24 hours, lists disabled subscriptions, and refuses another window', async () => {
      await app.admin('PATCH', `/api/subscriptions/${subscriptionId}`, { enabled: false });
      try {
        const day = await app.admin('GET', '/api/overview?window=day');
        expect(day.body.events).toHaveLength(24);
        expect(day.body.bucketSeconds).toBe(3600);
        expect(day.body.disabledSubscriptions).toEqual([
          expect.objectContaining({ id: subscriptionId, name: 'CRM' }),
        ]);
      } finally {
        await app.admin('PATCH', `/api/subscriptions/${subscriptionId}`, { enabled: true });
      }
      const week = await app.admin('GET', '/api/overview?window=week');
      expect(week.status).toBe(400);
      expect(week.body.details[0].field).toBe('window');
    });

    it('needs the admin key', async () => {
      expect((await fetch(`${app.url}/api/overview`)).status).toBe(401);
    });
  });

  describe('POST /api/playground', () => {
    it('runs a transform and a filter on a stored event', async () => {
      const answer = await app.admin('POST', '/api/playground', {
        eventId,
        transform: '{"says": message.text, "type": type}',
        filter: { 'message.text': { $regex: 'screenshot' } },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.input).toBe('stored');
      expect(answer.body.event.id).toBe(eventId);
      expect(answer.body.transform).toEqual({
        output: { says: "Here's the screenshot from my bank app", type: 'message.created' },
        error: null,
        durationMs: expect.any(Number),
      });
      expect(answer.body.filter).toEqual({ matched: true, error: null });
    });

    it('runs on a sample event of the type asked for', async () => {
      const answer = await app.admin('POST', '/api/playground', {
        eventType: 'conversation.ended',
        transform: 'type',
        filter: { type: 'message.created' },
      });
      expect(answer.body.input).toBe('sample');
      expect(answer.body.transform.output).toBe('conversation.ended');
      expect(answer.body.filter).toEqual({ matched: false, error: null });
    });

    it('answers what the expressions get wrong, bounded like delivery', async () => {
      const answer = await app.admin('POST', '/api/playground', {
        transform: '{"a": }',
        filter: { $where: 'true' },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.transform.output).toBeNull();
      expect(answer.body.transform.error).toMatch(/transform/);
      expect(answer.body.filter).toEqual({
        matched: null,
        error: expect.stringMatching(/\$where/),
      });
      const endless = await app.admin('POST', '/api/playground', {
        transform: '($f := function($n) { $f($n + 1) }; $f(0))',
      });
      expect(endless.body.transform.error).toMatch(/deeper than|timed out/);
    });

    it('refuses an unknown event, a wrong type and a wrong event type', async () => {
      expect((await app.admin('POST', '/api/playground', { eventId: 'evt_nope' })).status).toBe(
        404,
      );
      const wrong = await app.admin('POST', '/api/playground', {
        transform: 42,
        eventType: 'nope',
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body.details.map((detail: { field: string }) => detail.field).sort()).toEqual([
        'eventType',
        'transform',
      ]);
    });
  });

  describe('POST /api/deliveries/retry/preview', () => {
    it('counts what a re-drive would queue, and queues nothing', async () => {
      const preview = await app.admin('POST', '/api/deliveries/retry/preview', {
        status: 'dead',
        subscriptionId,
      });
      expect(preview.status).toBe(200);
      expect(preview.body).toEqual({ matching: 1 });
      const deliveries = await app.admin('GET', `/api/deliveries?eventId=${eventId}`);
      expect(deliveries.body.data[0].status).toBe('dead');
      expect(
        (await app.admin('POST', '/api/deliveries/retry/preview', { status: 'failed' })).body,
      ).toEqual({ matching: 0 });
      expect(
        (await app.admin('POST', '/api/deliveries/retry/preview', { status: 'gone' })).status,
      ).toBe(400);
    });
  });

  describe('GET /api/events?text=', () => {
    it('finds events by text in the raw payload, without case, and takes % literally', async () => {
      const found = await app.admin('GET', '/api/events?text=BANK%20APP');
      expect(found.body.data.map((event: { id: string }) => event.id)).toEqual([eventId]);
      expect((await app.admin('GET', '/api/events?text=%25')).body.data).toEqual([]);
      expect((await app.admin('GET', '/api/events?text=no-such-words')).body.data).toEqual([]);
    });
  });
});
