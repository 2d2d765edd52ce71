import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { Settings } from '../config/settings';
import { redisOptionsFromUrl } from './redis-connection';

/**
 * One plain Redis client per process for the router's own keys (subscription cache version,
 * rate limits), apart from BullMQ's blocking connections. Commands fail after a few reconnection
 * tries instead of waiting forever.
 */
@Injectable()
export class SharedRedis implements OnModuleDestroy {
  readonly client: Redis;

  constructor(private readonly settings: Settings) {
    this.client = new Redis({
      ...redisOptionsFromUrl(settings.REDIS_URL),
      maxRetriesPerRequest: 2,
    });
  }

  /** A key in this deployment's namespace. */
  key(...parts: string[]): string {
    return [this.settings.QUEUE_PREFIX, ...parts].join(':');
  }

  async onModuleDestroy(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
