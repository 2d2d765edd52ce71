import { SharedRedis } from '../../src/queues/shared-redis';
import { SubscriptionMatcher } from '../../src/routing/subscription-matcher';
import { SubscriptionSnapshot } from '../../src/subscriptions/subscription-snapshot';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';

/**
 * One snapshot of the enabled subscriptions serves matching and sending in every process, kept
 * fresh by the version key in Redis; on real Postgres and Redis, two apps sharing one prefix.
 */
describe('the subscriptions snapshot', () => {
  let api: TestApp;
  let other: TestApp;

  beforeAll(async () => {
    api = await startTestApp();
    other = await startTestApp({ QUEUE_PREFIX: api.settings.QUEUE_PREFIX });
    await resetDatabase(api.dataSource);
    await other.running.context.get(SubscriptionSnapshot).invalidate();
  });

  afterAll(async () => {
    // Suites after this one share the database: leave them no subscription to deliver to.
    await api?.clearSubscriptions();
    await other?.close();
    await api?.close();
  });

  async function subscribe(body: Record<string, unknown> = {}) {
    const created = await api.admin('POST', '/api/subscriptions', {
      name: 'snapshot',
      url: 'https://example.com/hook',
      eventTypes: ['message.*'],
      ...body,
    });
    expect(created.status).toBe(201);
    return created.body as { id: string; secret: string };
  }

  it('shows a subscription made in one process to matching and sending in another', async () => {
    const snapshot = other.running.context.get(SubscriptionSnapshot);
    const matcher = other.running.context.get(SubscriptionMatcher);
    const event = { type: 'message.created', sourceId: 'src_any' };
    expect(await matcher.match(event)).toEqual([]);

    const { id, secret } = await subscribe();

    // Matching hands out ids (and whether ordered), not the subscription with its secrets.
    expect(await matcher.match(event)).toEqual([{ id, ordered: false }]);
    expect((await snapshot.current()).byId.get(id)).toMatchObject({ id, secret });
    expect(await snapshot.withSecrets(id)).toMatchObject({ id, secret });
  });

  it('drops a disabled subscription from matching, and still finds it with its secrets', async () => {
    const { id, secret } = await subscribe({ eventTypes: ['conversation.*'] });
    const matcher = other.running.context.get(SubscriptionMatcher);
    const event = { type: 'conversation.started', sourceId: 'src_any' };
    expect(await matcher.match(event)).toEqual([{ id, ordered: false }]);

    expect((await api.admin('PATCH', `/api/subscriptions/${id}`, { enabled: false })).status).toBe(
      200,
    );

    expect(await matcher.match(event)).toEqual([]);
    const snapshot = other.running.context.get(SubscriptionSnapshot);
    expect((await snapshot.current()).byId.has(id)).toBe(false);
    expect(await snapshot.withSecrets(id)).toMatchObject({ id, secret, enabled: false });
  });

  it('shares one version GET among the reads of one event-loop turn, and one snapshot', async () => {
    const snapshot = other.running.context.get(SubscriptionSnapshot);
    await snapshot.current();
    const redis = other.running.context.get(SharedRedis).client;
    const get = jest.spyOn(redis, 'get');
    try {
      const reads = await Promise.all(Array.from({ length: 20 }, () => snapshot.current()));
      expect(get).toHaveBeenCalledTimes(1);
      expect(new Set(reads).size).toBe(1);

      await snapshot.current();
      expect(get).toHaveBeenCalledTimes(2);
    } finally {
      get.mockRestore();
    }
  });

  it('keeps its snapshot while the version holds, and loads a new one when it moves', async () => {
    const snapshot = other.running.context.get(SubscriptionSnapshot);
    const before = await snapshot.current();
    expect(await snapshot.current()).toBe(before);

    await api.running.context.get(SubscriptionSnapshot).invalidate();

    const after = await snapshot.current();
    expect(after).not.toBe(before);
    expect(after.version).not.toBe(before.version);
  });
});
