import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';

export interface RateLimit {
  max: number;
  perSeconds: number;
}

export type RateLimitDecision = { allowed: true } | { allowed: false; retryInMs: number };

const COMMAND = 'webhookRouterRateLimitAcquire';

/**
 * A sliding-window log: one sorted-set member per slot taken, scored by Redis' own clock (so
 * every worker shares it). Returns 0 when a slot was taken, else the ms until the oldest slot
 * leaves the window. KEYS[1] = key; ARGV = max, window ms, unique member suffix.
 */
const ACQUIRE_SCRIPT = `
if redis.replicate_commands then redis.replicate_commands() end
local max = tonumber(ARGV[1])
local windowUs = tonumber(ARGV[2]) * 1000
local time = redis.call('TIME')
local nowUs = tonumber(time[1]) * 1000000 + tonumber(time[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowUs - windowUs)
if redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], nowUs, time[1] .. time[2] .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local waitMs = math.ceil((tonumber(oldest[2]) + windowUs - nowUs) / 1000)
if waitMs < 1 then waitMs = 1 end
return waitMs
`;

type RedisWithAcquire = Redis & {
  [COMMAND](key: string, max: number, windowMs: number, member: string): Promise<number>;
};

/** Per-subscription outbound rate limit, shared by all worker processes through Redis. */
export class SubscriptionRateLimiter {
  private readonly redis: RedisWithAcquire;

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
  ) {
    if (!(COMMAND in redis)) {
      redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: ACQUIRE_SCRIPT });
    }
    this.redis = redis as RedisWithAcquire;
  }

  /** Takes a slot now if the window allows; otherwise how long to wait before trying again. */
  async acquire(subscriptionId: string, limit: RateLimit): Promise<RateLimitDecision> {
    if (!Number.isInteger(limit.max) || limit.max < 1) {
      throw new RangeError(`rate limit max must be a positive integer, got ${limit.max}`);
    }
    if (!Number.isFinite(limit.perSeconds) || limit.perSeconds <= 0) {
      throw new RangeError(`rate limit perSeconds must be positive, got ${limit.perSeconds}`);
    }
    const windowMs = Math.max(1, Math.round(limit.perSeconds * 1000));
    const waitMs = await this.redis[COMMAND](
      this.keyFor(subscriptionId),
      limit.max,
      windowMs,
      randomUUID(),
    );
    return waitMs === 0 ? { allowed: true } : { allowed: false, retryInMs: waitMs };
  }

  private keyFor(subscriptionId: string): string {
    return `${this.keyPrefix}:ratelimit:${subscriptionId}`;
  }
}
