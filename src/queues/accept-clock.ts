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
 * replica behind), and the webhooks noted as being queued at it, all in one step. KEYS: clock,
 * accepting; ARGV: the event ids.
 */
const ACCEPT_SCRIPT = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if last > now then now = last end
redis.call('SET', KEYS[1], now)
local marks = {}
for i = 1, #ARGV do
  marks[#marks + 1] = now
  marks[#marks + 1] = ARGV[i]
end
redis.call('ZADD', KEYS[2], unpack(marks))
return now
`;

/** Webhooks accepted in one script call at most: Lua's unpack has a limit of a few thousand. */
const ACCEPTED_TOGETHER_MAX = 500;

interface WaitingAccept {
  eventId: string;
  accepted: (acceptedAt: number) => void;
  failed: (error: unknown) => void;
}

/**
 * Accept times come from one clock, Redis's, and a webhook counts as on its way from the moment
 * it gets one: ordered delivery's watermark (src/delivery/ingest-watermark.ts) then needs no
 * margin for API hosts' clock skew or for the time a job takes to reach Redis (docs/ordering.md).
 */
type AcceptingRedis = Redis & {
  acceptWebhooks(clock: string, accepting: string, ...eventIds: string[]): Promise<number | string>;
};

@Injectable()
export class AcceptClock {
  private readonly logger = new Logger(AcceptClock.name);
  /** Webhooks asking for their accept time in this turn of the event loop: one script call. */
  private toAccept: WaitingAccept[] = [];
  /** Marks cleared in one turn of the event loop, sent to Redis as one ZREM. */
  private toClear: string[] = [];

  constructor(@InjectQueue(INGEST_QUEUE) private readonly queue: Queue) {}

  /**
   * The webhook's accept time (ms, Redis's clock), once it is noted as being queued; call `queued`
   * once its job is in Redis or failed. The webhooks asking in one turn of the event loop share one
   * script call, hence one accept time; a later call never answers an earlier time.
   */
  accept(eventId: string): Promise<number> {
    return new Promise<number>((accepted, failed) => {
      this.toAccept.push({ eventId, accepted, failed });
      if (this.toAccept.length === 1) setImmediate(() => void this.acceptWaiting());
    });
  }

  private async acceptWaiting(): Promise<void> {
    const waiting = this.toAccept;
    this.toAccept = [];
    const { clock, accepting } = acceptKeys(this.queue);
    for (let start = 0; start < waiting.length; start += ACCEPTED_TOGETHER_MAX) {
      const together = waiting.slice(start, start + ACCEPTED_TOGETHER_MAX);
      try {
        const client = await this.client();
        const eventIds = together.map((webhook) => webhook.eventId);
        const acceptedAt = Number(await client.acceptWebhooks(clock, accepting, ...eventIds));
        for (const webhook of together) webhook.accepted(acceptedAt);
      } catch (error) {
        for (const webhook of together) webhook.failed(error);
      }
    }
  }

  /**
   * The job is in Redis (its timestamp is the accept time) or will never be: the watermark need
   * not count the webhook apart any more. Left behind (a crash, Redis unreachable), the entry
   * expires (ACCEPTING_EXPIRES_MS).
   */
  queued(eventId: string): void {
    this.toClear.push(eventId);
    if (this.toClear.length === 1) setImmediate(() => void this.clear());
  }

  private async clear(): Promise<void> {
    const eventIds = this.toClear;
    this.toClear = [];
    try {
      await (await this.client()).zrem(acceptKeys(this.queue).accepting, ...eventIds);
    } catch (error) {
      this.logger.warn(
        `Could not clear the accept marks of ${eventIds.length} webhook(s): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** The queue's connection, taught the accept script: sent by its SHA, not its text, each time. */
  private async client(): Promise<AcceptingRedis> {
    const client = (await this.queue.client) as unknown as AcceptingRedis;
    if (typeof client.acceptWebhooks !== 'function') {
      client.defineCommand('acceptWebhooks', { numberOfKeys: 2, lua: ACCEPT_SCRIPT });
    }
    return client;
  }
}
