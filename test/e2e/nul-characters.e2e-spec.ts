import { resetDatabase, startTestApp, TestApp } from '../support/test-app';

/**
 * Postgres refuses U+0000 in text and jsonb. Every admin route that takes a string answers 400
 * naming the field that holds one, rather than a 500 from the database.
 */
describe('NUL characters in admin input', () => {
  let app: TestApp;
  let sourceId: string;
  let subscriptionId: string;

  beforeAll(async () => {
    app = await startTestApp({ APP_ROLE: 'api' });
    await resetDatabase(app.dataSource);
    sourceId = (await app.admin('POST', '/api/sources', { kind: 'jivo', name: 'Jivo' })).body.id;
    subscriptionId = (
      await app.admin('POST', '/api/subscriptions', {
        name: 'CRM',
        url: 'http://127.0.0.1:9/hook',
        eventTypes: ['*'],
      })
    ).body.id;
  });

  afterAll(async () => {
    await app?.close();
  });

  const subscription = (extra: Record<string, unknown>) => ({
    name: 'CRM',
    url: 'http://127.0.0.1:9/hook',
    eventTypes: ['*'],
    ...extra,
  });

  it.each([
    ['name', 'POST', '/api/sources', { kind: 'jivo', name: 'Jivo\u0000' }],
    [
      'allowedChannelIds.1',
      'POST',
      '/api/sources',
      { kind: 'jivo', name: 'J', allowedChannelIds: ['1', '\u0000'] },
    ],
    [
      'signingSecret',
      'POST',
      '/api/sources',
      { kind: 'chatwoot', name: 'C', signingSecret: 'a\u0000b' },
    ],
    ['kind', 'POST', '/api/sources', { kind: 'jivo\u0000', name: 'J' }],
    ['name', 'PATCH', '/api/sources/:source', { name: '\u0000' }],
    ['name', 'POST', '/api/subscriptions', subscription({ name: 'CRM\u0000' })],
    [
      'headers.X-Token',
      'POST',
      '/api/subscriptions',
      subscription({ headers: { 'X-Token': 'a\u0000' } }),
    ],
    ['sourceIds.0', 'POST', '/api/subscriptions', subscription({ sourceIds: ['src_\u0000'] })],
    [
      'filter.contact.name',
      'POST',
      '/api/subscriptions',
      subscription({ filter: { 'contact.name': 'a\u0000' } }),
    ],
    [
      'filter.contact\\u0000',
      'POST',
      '/api/subscriptions',
      subscription({ filter: { 'contact\u0000': 'a' } }),
    ],
    ['transform', 'POST', '/api/subscriptions', subscription({ transform: '"a\u0000"' })],
    [
      'headers.X-Token',
      'PATCH',
      '/api/subscriptions/:subscription',
      { headers: { 'X-Token': '\u0000' } },
    ],
    [
      'subscriptionId',
      'POST',
      '/api/deliveries/retry',
      { status: 'dead', subscriptionId: 'sub_\u0000' },
    ],
    ['subscriptionIds.0', 'POST', '/api/events/evt_1/replay', { subscriptionIds: ['sub_\u0000'] }],
  ])('names %s in %s %s', async (field, method, path, body) => {
    const url = path.replace(':source', sourceId).replace(':subscription', subscriptionId);
    const response = await app.admin(method, url, body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: 'validation_failed',
      details: [{ field, problems: [expect.stringContaining('NUL')] }],
    });
  });

  it.each([
    ['/api/subscriptions/sub_%00', 'id'],
    ['/api/sources/src_%00', 'id'],
    ['/api/events/evt_%00', 'id'],
    ['/api/deliveries/dlv_%00', 'id'],
    ['/api/events?cursor=evt_%00', 'cursor'],
    ['/api/events?type=%00', 'type'],
    ['/api/deliveries?subscriptionId=%00', 'subscriptionId'],
  ])('GET %s: names %s', async (path, field) => {
    const response = await app.admin('GET', path);
    expect(response.status).toBe(400);
    expect(response.body.details).toEqual([{ field, problems: [expect.stringContaining('NUL')] }]);
  });

  it('stored nothing and changed nothing', async () => {
    const sources = await app.admin('GET', '/api/sources');
    expect(sources.body.data.map((source: { name: string }) => source.name)).toEqual(['Jivo']);
    const subscriptions = await app.admin('GET', '/api/subscriptions');
    expect(subscriptions.body.data).toHaveLength(1);
    expect(subscriptions.body.data[0]).toMatchObject({ name: 'CRM', headers: {} });
  });
});
