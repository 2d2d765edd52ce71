import { CANONICAL_MAX_DEPTH, nestsDeeperThan } from '../../src/canonical/depth-bound';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

/** 6,000 levels of `{"a": …}`: JSON.parse reads it, a recursive JSON.stringify overflows. */
const DEPTH = 6000;
const deep = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;

/** A fixture with one field replaced by the deep value, as its raw text. */
function withDeepField(fixture: string, field: string): string {
  return JSON.stringify({ ...JSON.parse(fixture), [field]: '<deep>' }).replace('"<deep>"', deep);
}

const SAMPLES = [
  {
    kind: 'chatwoot',
    body: withDeepField(fixtureText('chatwoot', 'message_created.json'), 'content_attributes'),
    cutUnder: 'extensions.chatwoot.message.contentAttributes.a.a',
  },
  {
    kind: 'jivo',
    body: withDeepField(fixtureText('jivo', 'chat_accepted.json'), 'attributes'),
    cutUnder: 'contact.attributes.a.a',
  },
  {
    kind: 'jivo-bot',
    body: withDeepField(fixtureText('jivo', 'bot_client_message.json'), 'extra'),
    cutUnder: 'extensions.jivo-bot.unmapped.extra.a.a',
  },
];

describe('deeply nested bodies: acknowledged, stored, readable, delivered', () => {
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
    await app.clearSubscriptions();
  });

  async function createSource(kind: string, extra: Record<string, unknown> = {}) {
    const created = await app.admin('POST', '/api/sources', { name: 'deep', kind, ...extra });
    expect(created.status).toBe(201);
    return created.body;
  }

  async function subscribe(sourceId: string, format: Record<string, unknown>, path: string) {
    const created = await app.admin('POST', '/api/subscriptions', {
      name: path,
      url: `${sink.url}/${path}`,
      eventTypes: ['*'],
      sourceIds: [sourceId],
      ...format,
    });
    expect(created.status).toBe(201);
  }

  async function storedEventOf(sourceId: string) {
    const listed = await waitFor(async () => {
      const page = await app.admin('GET', `/api/events?sourceId=${sourceId}`);
      expect(page.status).toBe(200);
      return page.body.data.length === 1 ? page.body.data[0] : null;
    });
    const rows = await app.dataSource.query(`SELECT raw_body FROM events WHERE id = $1`, [
      listed.id,
    ]);
    return { listed, rawBody: rows[0]?.raw_body as string | undefined };
  }

  it.each(SAMPLES)(
    '$kind: stores the event cut at the depth bound and delivers it in every format',
    async ({ kind, body, cutUnder }) => {
      const source = await createSource(kind);
      await subscribe(source.id, {}, 'canonical');
      await subscribe(source.id, { payloadFormat: 'raw' }, 'raw');
      await subscribe(source.id, { transform: '{ "id": id, "cut": extensions.router }' }, 'shaped');

      const response = await app.post(`/webhooks/${kind}/${source.token}`, body);
      expect(response.status).toBe(200);

      const { listed, rawBody } = await storedEventOf(source.id);
      expect(listed.status).toBe('routed');
      expect(rawBody).toBe(body);

      const read = await app.admin('GET', `/api/events/${listed.id}`);
      expect(read.status).toBe(200);
      expect(read.body.raw).toBe(body);
      expect(nestsDeeperThan(read.body.event, CANONICAL_MAX_DEPTH)).toBe(false);
      const depthCut = read.body.event.extensions.router.depthCut;
      expect(depthCut).toMatchObject({ maxDepth: CANONICAL_MAX_DEPTH, count: 1 });
      expect(depthCut.paths[0]).toMatch(new RegExp(`^${cutUnder.replaceAll('.', '\\.')}`));

      await waitFor(() => sink.requests.length === 3);
      const byPath = new Map(sink.requests.map((request) => [request.path, request.body]));
      expect(JSON.parse(byPath.get('/canonical')!)).toEqual(read.body.event);
      expect(byPath.get('/raw')).toBe(body);
      expect(JSON.parse(byPath.get('/shaped')!)).toEqual({ id: listed.id, cut: { depthCut } });

      const replayed = await app.admin('POST', `/api/events/${listed.id}/replay`, {});
      expect(replayed.status).toBe(202);
      expect(replayed.body.data).toHaveLength(3);
      await waitFor(() => sink.requests.length === 6);
    },
  );

  it('answers a Jivo source with enrichment at once, the CRM asked with the cut event', async () => {
    crm.respondWith([], {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ crmLink: 'https://crm.example.com/contacts/1' }),
    });
    const source = await createSource('jivo', { enrichmentUrl: `${crm.url}/jivo` });
    const response = await app.post(`/webhooks/jivo/${source.token}`, SAMPLES[1].body);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      result: 'ok',
      crm_link: 'https://crm.example.com/contacts/1',
    });
    expect(crm.requests).toHaveLength(1);
    const asked = JSON.parse(crm.requests[0].body);
    expect(asked.extensions.router.depthCut.count).toBe(1);
    await storedEventOf(source.id);
  });

  it('stores a deep body it cannot normalize as unprocessable, readable through the API', async () => {
    const source = await createSource('chatwoot');
    const body = `{"no_event_field":${deep}}`;
    const response = await app.post(`/webhooks/chatwoot/${source.token}`, body);
    expect(response.status).toBe(200);

    const { listed, rawBody } = await storedEventOf(source.id);
    expect(listed).toMatchObject({ status: 'unprocessable', type: null });
    expect(rawBody).toBe(body);
    const read = await app.admin('GET', `/api/events/${listed.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ status: 'unprocessable', event: null, raw: body });
    const listedUnprocessable = await app.admin('GET', '/api/events?status=unprocessable');
    expect(listedUnprocessable.status).toBe(200);
    expect(listedUnprocessable.body.data.map((event: any) => event.id)).toContain(listed.id);
  });
});
