import { Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { AppError } from '../common/app-error';
import { Settings } from '../config/settings';
import { SharedRedis } from '../queues/shared-redis';

const PENDING = '"__pending__"';
const POLL_MS = 20;

/**
 * Remembers, for the dedupe window, the answer given to each webhook: keyed by the sender's
 * delivery id when it sends one, else by a hash of the raw body, per source. A duplicate is
 * answered as the first was and is not queued again.
 */
@Injectable()
export class DedupeStore {
  private readonly redis: Redis;

  constructor(
    private readonly settings: Settings,
    private readonly shared: SharedRedis,
  ) {
    this.redis = shared.client;
  }

  /** The dedupe key of a webhook, or null when dedupe is off. */
  keyFor(sourceId: string, deliveryId: string | null, rawBody: Buffer): string | null {
    if (this.settings.DEDUPE_WINDOW_SECONDS === 0) return null;
    const identity = deliveryId
      ? `delivery:${createHash('sha256').update(deliveryId).digest('hex')}`
      : `body:${createHash('sha256').update(rawBody).digest('hex')}`;
    return this.shared.key('dedupe', sourceId, identity);
  }

  /**
   * Claims a webhook. Undefined: it is new and the caller owns it (and must settle or release
   * it). Otherwise the answer given to the first; while the first is still being stored, waits.
   */
  async claim(key: string, waitMs: number): Promise<{ response: unknown } | undefined> {
    const redis = this.redis;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const claimed = await redis.set(
        key,
        PENDING,
        'EX',
        this.settings.DEDUPE_WINDOW_SECONDS,
        'NX',
      );
      if (claimed) return undefined;
      const stored = await redis.get(key);
      if (stored !== null && stored !== PENDING) return { response: JSON.parse(stored) };
      if (Date.now() > deadline) {
        throw new AppError(
          'queue_unavailable',
          'The same webhook is still being stored; retry later',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async settle(key: string, response: unknown): Promise<void> {
    const redis = this.redis;
    await redis.set(key, JSON.stringify(response), 'KEEPTTL', 'XX');
  }

  /** Forgets a claim whose webhook could not be stored, so the sender's retry is not a duplicate. */
  async release(key: string): Promise<void> {
    const redis = this.redis;
    await redis.del(key);
  }
}
