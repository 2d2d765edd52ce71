import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Settings } from '../config/settings';
import { INGEST_QUEUE } from '../queues/queue-names';

/** How long one reading serves every head a worker checks. */
const FRESH_FOR_MS = 100;
/**
 * An ingest job older than this (failing again and again, Postgres down for long) stops holding
 * ordered conversations back: their heads go, and its event is sent late when it is stored.
 */
export const INGEST_WAIT_MAX_MS = 5 * 60_000;

/**
 * The oldest add time (ms) among the ingest jobs not finished: the oldest waiting (the list's
 * right end, where stalled jobs return too), the newest waiting (where retried ones are put back),
 * every active one (a killed worker's until BullMQ takes them back), the delayed (retrying) and
 * the prioritized ones. -1: none. KEYS: wait, active, delayed, prioritized, paused; ARGV[1]: the
 * job key prefix.
 */
const OLDEST_UNFINISHED_SCRIPT = `
local prefix = ARGV[1]
local oldest = -1
local function consider(id)
  if not id then return end
  local ts = tonumber(redis.call('HGET', prefix .. id, 'timestamp'))
  if ts and (oldest < 0 or ts < oldest) then oldest = ts end
end
consider(redis.call('LINDEX', KEYS[1], -1))
consider(redis.call('LINDEX', KEYS[5], -1))
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, 499)) do consider(id) end
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do consider(id) end
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, 999)) do consider(id) end
for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, 499)) do consider(id) end
return oldest
`;

/**
 * Ordered conversations wait for ingest: a head accepted at T is sent only once no webhook
 * accepted before T (less `ORDERING_SETTLE_MS`, the time from a webhook's arrival to its job in
 * Redis, and the API hosts' clock skew) is still being stored, since it may belong to the same
 * conversation and must go first. Two ingest jobs of one conversation stored by two workers in
 * either order, or one held by a worker killed mid-job, are thus both stored before either is sent.
 */
@Injectable()
export class IngestWatermark {
  private reading: { at: number; value: Promise<number> } | null = null;

  constructor(
    @InjectQueue(INGEST_QUEUE) private readonly queue: Queue,
    private readonly settings: Settings,
  ) {}

  /** A head accepted before this time (ms) may be sent. */
  async sendableBefore(): Promise<number> {
    const now = Date.now();
    if (!this.reading || now - this.reading.at > FRESH_FOR_MS) {
      this.reading = { at: now, value: this.read(now) };
      this.reading.value.catch(() => (this.reading = null));
    }
    return this.reading.value;
  }

  private async read(now: number): Promise<number> {
    const client = (await this.queue.client) as unknown as Redis;
    const { wait, active, delayed, prioritized, paused } = this.queue.keys;
    const oldest = Number(
      await client.eval(
        OLDEST_UNFINISHED_SCRIPT,
        5,
        wait,
        active,
        delayed,
        prioritized,
        paused,
        `${this.queue.qualifiedName}:`,
      ),
    );
    const holding = oldest >= 0 && oldest > now - INGEST_WAIT_MAX_MS ? oldest : now;
    return Math.min(holding, now) - this.settings.ORDERING_SETTLE_MS;
  }
}
