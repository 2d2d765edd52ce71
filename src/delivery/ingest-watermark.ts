import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Settings } from '../config/settings';
import { acceptKeys } from '../queues/accept-clock';
import { INGEST_QUEUE } from '../queues/queue-names';

/**
 * An ingest job older than this (failing again and again, Postgres down for long) stops holding
 * ordered conversations back: their heads go, and its event is sent late when it is stored.
 */
export const INGEST_WAIT_MAX_MS = 5 * 60_000;
/**
 * A webhook noted as being queued this long ago whose job never came (its API process died
 * between the accept time and the job) stops holding ordered conversations back.
 */
export const ACCEPTING_EXPIRES_MS = 30_000;
/** How often a waiting head looks again when no ingest job finished in this process meanwhile. */
const POLL_MS = 10;
/** Event ids at the oldest accept time the script answers; more and a tie holds every head. */
const TIES_LISTED = 50;

/**
 * Redis's accept clock now, and the oldest accept time among the webhooks not yet stored with the
 * event ids accepted at it: the ingest jobs not finished (the oldest waiting, at the list's right
 * end where stalled jobs return too, the newest waiting where retried ones are put back, every
 * active one, the delayed and the prioritized ones), and the webhooks being queued (given an accept
 * time, job not yet in Redis). KEYS: wait, active, delayed, prioritized, paused, accept clock,
 * accepting; ARGV: the job key prefix, the accepting entries' expiry (ms), the ties listed.
 */
const OLDEST_UNFINISHED_SCRIPT = `
local prefix = ARGV[1]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[6]) or '0')
if last > now then now = last end
-- Webhooks accepted after this reading get a time at or after its now, whatever Redis's clock does.
redis.call('SET', KEYS[6], now)
local oldest = -1
local ties = {}
local function consider(id, ts)
  if not id or not ts then return end
  if oldest < 0 or ts < oldest then
    oldest = ts
    ties = { id }
  elseif ts == oldest then
    ties[#ties + 1] = id
  end
end
local function job(id)
  if id then consider(id, tonumber(redis.call('HGET', prefix .. id, 'timestamp'))) end
end
job(redis.call('LINDEX', KEYS[1], -1))
job(redis.call('LINDEX', KEYS[5], -1))
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, 499)) do job(id) end
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do job(id) end
for _, id in ipairs(redis.call('ZRANGE', KEYS[3], 0, 999)) do job(id) end
for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, 499)) do job(id) end
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - tonumber(ARGV[2]))
local accepting = redis.call('ZRANGE', KEYS[7], 0, 99, 'WITHSCORES')
for i = 1, #accepting, 2 do
  -- A note whose job is in Redis (its removal lost to a connection cut) is the job's to count.
  if redis.call('EXISTS', prefix .. accepting[i]) == 1 then
    redis.call('ZREM', KEYS[7], accepting[i])
  else
    consider(accepting[i], tonumber(accepting[i + 1]))
  end
end
local answer = { now, oldest, #ties }
for i = 1, math.min(#ties, tonumber(ARGV[3])) do answer[#answer + 1] = ties[i] end
return answer
`;

/** One reading of the ingest queue, in Redis's accept clock. */
interface Reading {
  startedAt: number;
  /** When its answer came back (this process's clock). */
  answeredAt: number;
  now: number;
  /** The oldest accept time not yet stored that holds heads back; null: none. */
  holding: number | null;
  /** Event ids accepted at `holding`; null: too many to list. */
  ties: Set<string> | null;
}

/**
 * Whether a head may be sent now, as of a reading answered at `answeredAt` (this process's clock);
 * if not, how long its job had better wait in the delayed set.
 */
export type HeadVerdict = { go: true; answeredAt: number } | { go: false; delayMs: number };

/** A head: its place in its lane (accept time, then event id). */
export interface LanePlace {
  laneAt: number;
  eventId: string;
}

/**
 * Ordered conversations wait for ingest: a head accepted at T is sent only once every webhook
 * accepted before T is stored, since it may belong to the same conversation and must go first.
 * Accept times come from Redis's clock when the webhook is noted as being queued
 * (src/queues/accept-clock.ts), so a webhook not yet in this reading will be accepted after it:
 * no margin for clock skew or the way into Redis (docs/ordering.md). Two ingest jobs of one
 * conversation stored by two workers in either order, or one held by a worker killed mid-job, are
 * thus both stored before either is sent.
 */
@Injectable()
export class IngestWatermark {
  private reading: Promise<Reading> | null = null;
  private readingStartedAt = 0;
  /** Heads asleep until an ingest job finishes here or their poll comes. */
  private readonly sleepers = new Set<() => void>();

  constructor(
    @InjectQueue(INGEST_QUEUE) private readonly queue: Queue,
    private readonly settings: Settings,
  ) {}

  /**
   * Waits, up to `budgetMs`, until every webhook accepted before the head is stored. Answers
   * whether it may go (and when the reading that lets it was answered: what the head loaded
   * before that may not show those webhooks), or else how long it had better wait elsewhere (the
   * ingest backlog it trails).
   */
  async waitFor(head: LanePlace, budgetMs: number): Promise<HeadVerdict> {
    const startedAt = Date.now();
    // Readings only move forward (accept times grow), so an older one can only hold a head back.
    let reading = await this.read(0);
    if (this.allows(reading, head)) return { go: true, answeredAt: reading.answeredAt };
    reading = await this.read(startedAt);
    for (;;) {
      if (this.allows(reading, head)) return { go: true, answeredAt: reading.answeredAt };
      const waited = Date.now() - startedAt;
      if (waited >= budgetMs) {
        const behind = head.laneAt - (reading.holding ?? reading.now);
        return { go: false, delayMs: Math.min(Math.max(behind / 2, 50), 2_000) };
      }
      const asleepAt = Date.now();
      await this.changeOrTimeout(Math.min(POLL_MS, budgetMs - waited));
      reading = await this.read(asleepAt);
    }
  }

  /** An ingest job finished in this process: waiting heads look again now. */
  ingestFinished(): void {
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
  }

  private allows(reading: Reading, { laneAt, eventId }: LanePlace): boolean {
    // A webhook accepted later than this reading gets a time at or after `now`.
    if (laneAt >= reading.now - this.settings.ORDERING_SETTLE_MS) return false;
    if (reading.holding === null || reading.holding > laneAt) return true;
    if (reading.holding < laneAt) return false;
    // Accepted in the same ms: only the head's own webhook (still finishing) does not hold it.
    return reading.ties !== null && [...reading.ties].every((id) => id === eventId);
  }

  private changeOrTimeout(ms: number): Promise<void> {
    return new Promise<void>((done) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        done();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  /** A reading started at or after `notBefore`, shared by every head asking meanwhile. */
  private read(notBefore: number): Promise<Reading> {
    if (!this.reading || this.readingStartedAt < notBefore) {
      this.readingStartedAt = Date.now();
      const reading = this.readNow(this.readingStartedAt);
      this.reading = reading;
      reading.catch(() => {
        if (this.reading === reading) this.reading = null;
      });
    }
    return this.reading;
  }

  private async readNow(startedAt: number): Promise<Reading> {
    const client = (await this.queue.client) as unknown as Redis;
    const { wait, active, delayed, prioritized, paused } = this.queue.keys;
    const { clock, accepting } = acceptKeys(this.queue);
    const [now, oldest, tieCount, ...ties] = (await client.eval(
      OLDEST_UNFINISHED_SCRIPT,
      7,
      wait,
      active,
      delayed,
      prioritized,
      paused,
      clock,
      accepting,
      `${this.queue.qualifiedName}:`,
      ACCEPTING_EXPIRES_MS,
      TIES_LISTED,
    )) as [number, number, number, ...string[]];
    const holds = oldest >= 0 && oldest > now - INGEST_WAIT_MAX_MS;
    return {
      startedAt,
      answeredAt: Date.now(),
      now: Number(now),
      holding: holds ? Number(oldest) : null,
      ties: Number(tieCount) <= ties.length ? new Set(ties) : null,
    };
  }
}
