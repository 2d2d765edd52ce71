import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { INGEST_QUEUE } from './queue-names';

/**
 * The keys beside the ingest queue that give webhooks their accept time: the last time handed out
 * (so it never goes back), and the webhooks being queued, scored by that time.
 */
export function acceptKeys(queue: Pick<Queue, 'qualifiedName'>): {
  clock: string;
  accepting: string;
} {
  return {
    clock: `${queue.qualifiedName}:accept-clock`,
    accepting: `${queue.qualifiedName}:accepting`,
  };
}

/**
 * Redis's time in ms, never below the last one handed out (a clock stepped back, a failover to a
 * replica behind), and the webhook noted as being queued at it. KEYS: clock, accepting; ARGV[1]:
 * the event id.
 */
const ACCEPT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if last > now then now = last end
redis.call('SET', KEYS[1], now)
redis.call('ZADD', KEYS[2], now, ARGV[1])
return now
`;

/**
 * Accept times come from one clock, Redis's, and a webhook counts as on its way from the moment
 * it gets one: ordered delivery's watermark (src/delivery/ingest-watermark.ts) then needs no
 * margin for API hosts' clock skew or for the time a job takes to reach Redis (docs/ordering.md).
 */
@Injectable()
export class AcceptClock {
  private readonly logger = new Logger(AcceptClock.name);

  constructor(@InjectQueue(INGEST_QUEUE) private readonly queue: Queue) {}

  /** The webhook's accept time (ms, Redis's clock); call `queued` once its job is in Redis or failed. */
  async accept(eventId: string): Promise<number> {
    const { clock, accepting } = acceptKeys(this.queue);
    const client = (await this.queue.client) as unknown as Redis;
    return Number(await client.eval(ACCEPT_SCRIPT, 2, clock, accepting, eventId));
  }

  /**
   * The job is in Redis (its timestamp is the accept time) or will never be: the watermark need
   * not count the webhook apart any more. Left behind (a crash, Redis unreachable), the entry
   * expires (ACCEPTING_EXPIRES_MS).
   */
  queued(eventId: string): void {
    const { accepting } = acceptKeys(this.queue);
    void this.queue.client
      .then((client) => (client as unknown as Redis).zrem(accepting, eventId))
      .catch((error: unknown) =>
        this.logger.warn(
          `Could not clear the accept mark of ${eventId}: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
  }
}
