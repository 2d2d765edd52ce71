import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { SubscriptionRateLimiter } from './rate-limiter';

const REDIS_URL = 'redis://127.0.0.1:6379';
const FIVE_PER_SECOND = { max: 5, perSeconds: 1 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SubscriptionRateLimiter (real Redis)', () => {
  const prefix = `test-ratelimit-${randomUUID()}`;
  const worker1 = new Redis(REDIS_URL);
  const worker2 = new Redis(REDIS_URL);
  const limiter1 = new SubscriptionRateLimiter(worker1, prefix);
  const limiter2 = new SubscriptionRateLimiter(worker2, prefix);

  afterAll(async () => {
    const keys = await worker1.keys(`${prefix}:*`);
    if (keys.length > 0) await worker1.del(...keys);
    await Promise.all([worker1.quit(), worker2.quit()]);
  });

  it('allows max slots per window, then says how long to wait, then allows again', async () => {
    const decisions = [];
    for (let i = 0; i < 6; i++) decisions.push(await limiter1.acquire('sub-a', FIVE_PER_SECOND));
    expect(decisions.slice(0, 5)).toEqual(Array(5).fill({ allowed: true }));
    const refused = decisions[5];
    if (refused.allowed) throw new Error('the sixth acquire should be refused');
    expect(refused.retryInMs).toBeGreaterThan(0);
    expect(refused.retryInMs).toBeLessThanOrEqual(1000);

    await sleep(refused.retryInMs);
    expect(await limiter1.acquire('sub-a', FIVE_PER_SECOND)).toEqual({ allowed: true });
  });

  it('shares the limit between workers: 10 concurrent acquires over two clients, 5 allowed', async () => {
    const decisions = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 === 0 ? limiter1 : limiter2).acquire('sub-shared', FIVE_PER_SECOND),
      ),
    );
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5);
  });

  it('keeps subscriptions apart', async () => {
    for (let i = 0; i < 2; i++) await limiter1.acquire('sub-busy', { max: 2, perSeconds: 60 });
    expect(await limiter1.acquire('sub-busy', { max: 2, perSeconds: 60 })).toMatchObject({
      allowed: false,
    });
    expect(await limiter2.acquire('sub-quiet', { max: 2, perSeconds: 60 })).toEqual({
      allowed: true,
    });
  });

  it('refuses for about the rest of the window, and lets the key expire with it', async () => {
    const key = `${prefix}:ratelimit:sub-ttl`;
    const limit = { max: 1, perSeconds: 0.3 };
    expect(await limiter1.acquire('sub-ttl', limit)).toEqual({ allowed: true });
    const refused = await limiter2.acquire('sub-ttl', limit);
    expect(refused).toMatchObject({ allowed: false });
    expect(!refused.allowed && refused.retryInMs).toBeGreaterThan(200);
    const ttl = await worker1.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    await sleep(ttl + 50);
    expect(await worker1.exists(key)).toBe(0);
  });

  it('rejects limits that cannot be enforced', async () => {
    await expect(limiter1.acquire('sub-bad', { max: 0, perSeconds: 1 })).rejects.toThrow(
      RangeError,
    );
    await expect(limiter1.acquire('sub-bad', { max: 1, perSeconds: 0 })).rejects.toThrow(
      RangeError,
    );
  });
});
