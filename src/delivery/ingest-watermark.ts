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
/** The oldest webhooks not yet stored that a reading lists; past them it knows only their count. */
const LISTED = 50;

/**
 * Redis's accept clock now, and the LISTED oldest webhooks not yet stored (event id, accept time)
 * in accept order: the ingest jobs not finished (the oldest waiting, at the list's right end where
 * stalled jobs return too, the newest waiting where retried ones are put back, every active one,
 * the delayed and the prioritized ones), and the webhooks being queued (given an accept time, job
 * not yet in Redis); those accepted before a cutoff no longer hold anything. KEYS: wait, active,
 * delayed, prioritized, paused, accept clock, accepting; ARGV: the job key prefix, the accepting
 * entries' expiry (ms), how many to list, how long before now an accept stops holding (ms).
 * Answers now, 1 if more were found than listed, then id, time, id, time…
 */
const OLDEST_UNFINISHED_SCRIPT = `
local prefix = ARGV[1]
local limit = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local last = tonumber(redis.call('GET', KEYS[6]) or '0')
if last > now then now = last end
-- Webhooks accepted after this reading get a time at or after its now, whatever Redis's clock does.
redis.call('SET', KEYS[6], now)
local cutoff = now - tonumber(ARGV[4])
local listed = {}
local seen = {}
local more = 0
local function consider(id, ts)
  if not id or not ts or ts <= cutoff or seen[id] then return end
  local n = #listed
  if n >= limit and ts >= listed[n][2] then
    more = 1
    return
  end
  seen[id] = true
  local at = n + 1
  while at > 1 and listed[at - 1][2] > ts do at = at - 1 end
  table.insert(listed, at, { id, ts })
  if #listed > limit then
    seen[listed[#listed][1]] = nil
    listed[#listed] = nil
    more = 1
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
local answer = { now, more }
for _, entry in ipairs(listed) do
  answer[#answer + 1] = entry[1]
  answer[#answer + 1] = entry[2]
end
return answer
`;

/** One reading of the ingest queue, in Redis's accept clock. */
interface Reading {
  /** When its answer came back (this process's clock). */
  answeredAt: number;
  now: number;
  /** The oldest webhooks not yet stored that still hold heads back, in accept order. */
  unfinished: { eventId: string; acceptedAt: number }[];
  /** More were not yet stored than listed (all accepted at or after the last one listed). */
  more: boolean;
}

/**
 * Whether a head may be sent now; `knownAt` (this process's clock): when the last of what lets it
 * go was known (the reading's answer, or the storing of an earlier webhook in this process), so
 * what the head loaded before then may not show those webhooks. If not, how long its job had
 * better wait in the delayed set.
 */
export type HeadVerdict = { go: true; knownAt: number } | { go: false; delayMs: number };

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
 * thus both stored before either is sent. An ingest job of this process whose event is stored
 * holds nothing back, though its job has not finished in Redis yet.
 */
@Injectable()
export class IngestWatermark {
  private reading: Promise<Reading> | null = null;
  private readingStartedAt = 0;
  /** Heads asleep until an ingest job finishes here or their poll comes. */
  private readonly sleepers = new Set<() => void>();
  /** Events this process stored whose ingest job has not finished yet, with when. */
  private readonly storedHere = new Map<string, number>();

  constructor(
    @InjectQueue(INGEST_QUEUE) private readonly queue: Queue,
    private readonly settings: Settings,
  ) {}

  /**
   * Waits, up to `budgetMs`, until every webhook accepted before the head is stored. Answers
   * whether it may go (and since when that is known), or else how long it had better wait
   * elsewhere (the ingest backlog it trails).
   */
  async waitFor(head: LanePlace, budgetMs: number): Promise<HeadVerdict> {
    const startedAt = Date.now();
    // Readings only move forward (accept times grow), so an older one can only hold a head back.
    let reading = await this.read(0);
    let knownAt = this.knownFreeAt(reading, head);
    if (knownAt !== null) return { go: true, knownAt };
    reading = await this.read(startedAt);
    for (;;) {
      knownAt = this.knownFreeAt(reading, head);
      if (knownAt !== null) return { go: true, knownAt };
      const waited = Date.now() - startedAt;
      if (waited >= budgetMs) {
        const holding = reading.unfinished.find(({ eventId }) => !this.storedHere.has(eventId));
        const behind = head.laneAt - (holding?.acceptedAt ?? reading.now);
        return { go: false, delayMs: Math.min(Math.max(behind / 2, 50), 2_000) };
      }
      const asleepAt = Date.now();
      await this.changeOrTimeout(Math.min(POLL_MS, budgetMs - waited));
      // Woken by an earlier webhook stored here, the reading it has may now let it go.
      if (this.knownFreeAt(reading, head) === null) reading = await this.read(asleepAt);
    }
  }

  /** This process stored the event of an ingest job that has not finished yet. */
  stored(eventId: string): void {
    this.storedHere.set(eventId, Date.now());
    this.wakeSleepers();
  }

  /** An ingest job of this process finished (or failed): waiting heads look again now. */
  ingestFinished(eventId?: string): void {
    if (eventId !== undefined) this.storedHere.delete(eventId);
    this.wakeSleepers();
  }

  /**
   * Null while a webhook accepted before the head may not be stored yet; else when that became
   * known. The head's own webhook, accepted in the same ms, is being stored by its caller.
   */
  private knownFreeAt(reading: Reading, { laneAt, eventId }: LanePlace): number | null {
    // A webhook accepted later than this reading gets a time at or after `now`.
    if (laneAt >= reading.now - this.settings.ORDERING_SETTLE_MS) return null;
    let knownAt = reading.answeredAt;
    for (const unfinished of reading.unfinished) {
      if (unfinished.acceptedAt > laneAt) return knownAt;
      if (unfinished.eventId === eventId) continue;
      const storedAt = this.storedHere.get(unfinished.eventId);
      if (storedAt === undefined) return null;
      knownAt = Math.max(knownAt, storedAt);
    }
    return reading.more ? null : knownAt;
  }

  private wakeSleepers(): void {
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
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
      const reading = this.readNow();
      this.reading = reading;
      reading.catch(() => {
        if (this.reading === reading) this.reading = null;
      });
    }
    return this.reading;
  }

  private async readNow(): Promise<Reading> {
    const client = (await this.queue.client) as unknown as Redis;
    const { wait, active, delayed, prioritized, paused } = this.queue.keys;
    const { clock, accepting } = acceptKeys(this.queue);
    const [now, more, ...listed] = (await client.eval(
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
      LISTED,
      INGEST_WAIT_MAX_MS,
    )) as [number, number, ...(string | number)[]];
    const unfinished: Reading['unfinished'] = [];
    for (let index = 0; index < listed.length; index += 2) {
      unfinished.push({ eventId: String(listed[index]), acceptedAt: Number(listed[index + 1]) });
    }
    return {
      answeredAt: Date.now(),
      now: Number(now),
      unfinished,
      more: Number(more) === 1,
    };
  }
}
