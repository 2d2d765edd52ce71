import { Injectable } from '@nestjs/common';
import { HealthCheckAttempt, HealthIndicatorService } from '@nestjs/terminus';
import { SharedRedis } from '../queues/shared-redis';

export const REDIS_PING_TIMEOUT_MS = 500;

/** Redis is reachable when the process's shared client gets PONG back within the timeout. */
@Injectable()
export class RedisHealthIndicator {
  constructor(
    private readonly redis: SharedRedis,
    private readonly health: HealthIndicatorService,
  ) {}

  pingCheck<const Key extends string>(
    key: Key,
    timeoutMs = REDIS_PING_TIMEOUT_MS,
  ): HealthCheckAttempt<Key> {
    return this.health
      .check(key)
      .attempt(async () => {
        const answer = await this.redis.client.ping();
        if (answer !== 'PONG') throw new Error(`PING answered ${answer}`);
      })
      .withTimeout(timeoutMs);
  }
}
