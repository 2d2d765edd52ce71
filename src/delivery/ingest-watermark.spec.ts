import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { Settings } from '../config/settings';
import { AcceptClock, acceptKeys } from '../queues/accept-clock';
import { ACCEPTING_EXPIRES_MS, INGEST_WAIT_MAX_MS, IngestWatermark } from './ingest-watermark';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };
const NOW_OR_NEVER_MS = 30;

describe('IngestWatermark and AcceptClock (real Redis)', () => {
  const prefix = `test-watermark-${randomUUID()}`;
  const queue = new Queue('ingest', { connection, prefix });
  const worker = new Worker('ingest', undefined, { connection, prefix, autorun: false });
  const redis = new Redis(connection);
  const clock = new AcceptClock(queue);
  const watermark = new IngestWatermark(queue, { ORDERING_SETTLE_MS: 0 } as Settings);

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await Promise.all([worker.close(), queue.close(), redis.quit()]);
  });

  /** Accepts a webhook and queues its job as the API does, unless told to stop before the job. */
  async function accept(eventId: string, queueIt = true): Promise<number> {
    const acceptedAt = await clock.accept(eventId);
    if (queueIt) await queueJob(eventId, acceptedAt);
    return acceptedAt;
  }

  async function queueJob(eventId: string, acceptedAt: number): Promise<void> {
    await queue.add('webhook.received', { eventId }, { jobId: eventId, timestamp: acceptedAt });
    clock.queued(eventId);
  }

  /** A worker takes the oldest waiting webhook (its job becomes active). */
  async function take() {
    const job = await worker.getNextJob('token');
    if (!job) throw new Error('no ingest job waiting');
    return job;
  }

  /** A worker stores the oldest waiting webhook (its job completes). */
  async function storeNext(): Promise<string> {
    const job = await take();
    await job.moveToCompleted('stored', 'token', false);
    return job.id!;
  }

  async function drain(): Promise<void> {
    while ((await queue.getWaitingCount()) > 0) await storeNext();
    await redis.del(acceptKeys(queue).accepting);
  }

  /** A fresh watermark each time: these tests put entries in the past, as no webhook can. */
  const mayGo = (laneAt: number, eventId: string) =>
    new IngestWatermark(queue, { ORDERING_SETTLE_MS: 0 } as Settings)
      .waitFor({ laneAt, eventId }, NOW_OR_NEVER_MS)
      .then((verdict) => verdict.go);

  it('gives accept times from Redis, never going back when its clock does', async () => {
    const [seconds, micros] = await redis.time();
    const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    const first = await clock.accept('evt_clock1');
    expect(first).toBeGreaterThanOrEqual(redisNow);
    expect(first - redisNow).toBeLessThan(1000);

    // A clock stepped back (or a replica behind after a failover) hands out no earlier time.
    await redis.set(acceptKeys(queue).clock, String(first + 60_000));
    expect(await clock.accept('evt_clock2')).toBe(first + 60_000);
    await redis.set(acceptKeys(queue).clock, '0');
    clock.queued('evt_clock1');
    clock.queued('evt_clock2');
  });

  it('holds a head while a webhook accepted before it is on its way to Redis or being stored', async () => {
    await drain();
    const early = await accept('evt_early', false);
    const later = await accept('evt_later');
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(later).toBeGreaterThanOrEqual(early);

    // Accepted, its job not in Redis yet: it holds the later head.
    expect(await mayGo(later, 'evt_later')).toBe(false);
    await queueJob('evt_early', early);
    expect(await mayGo(later, 'evt_later')).toBe(false);
    const own = await take();
    const earlier = await take();
    expect([own.id, earlier.id]).toEqual(['evt_later', 'evt_early']);
    expect(await mayGo(later, 'evt_later')).toBe(false);
    await earlier.moveToCompleted('stored', 'token', false);
    // The head's own webhook, still being stored, does not hold it.
    expect(await mayGo(later, 'evt_later')).toBe(true);
    await own.moveToCompleted('stored', 'token', false);
  });

  it('holds a head tied in the same ms with another webhook, not with its own', async () => {
    await drain();
    const at = (await clock.accept('evt_tie_own')) - 5;
    clock.queued('evt_tie_own');
    const { accepting } = acceptKeys(queue);
    await redis.zadd(accepting, at, 'evt_tie_own');
    expect(await mayGo(at, 'evt_tie_own')).toBe(true);
    await redis.zadd(accepting, at, 'evt_tie_other');
    expect(await mayGo(at, 'evt_tie_own')).toBe(false);
    await redis.zrem(accepting, 'evt_tie_own', 'evt_tie_other');
  });

  it('forgets a webhook accepted long ago whose job never came (its API process died)', async () => {
    await drain();
    const head = await clock.accept('evt_head');
    clock.queued('evt_head');
    await redis.zadd(acceptKeys(queue).accepting, head - ACCEPTING_EXPIRES_MS - 1, 'evt_lost');
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(await mayGo(head, 'evt_head')).toBe(true);
    expect(await redis.zscore(acceptKeys(queue).accepting, 'evt_lost')).toBeNull();
  });

  it('forgets a note left behind once the job is in Redis, and counts the job instead', async () => {
    await drain();
    const early = await clock.accept('evt_note_left');
    // The job is queued but the note's removal never reached Redis (a connection cut).
    await queue.add(
      'webhook.received',
      { eventId: 'evt_note_left' },
      { jobId: 'evt_note_left', timestamp: early },
    );
    const head = await accept('evt_note_head');
    expect(await mayGo(head, 'evt_note_head')).toBe(false);
    expect(await redis.zscore(acceptKeys(queue).accepting, 'evt_note_left')).toBeNull();
    expect(await storeNext()).toBe('evt_note_left');
    expect(await mayGo(head, 'evt_note_head')).toBe(true);
    await storeNext();
  });

  /**
   * Two webhooks accepted one after the other, both jobs taken by this process's worker, and a
   * watermark of this process; `head`: the later one's accept time.
   */
  async function twoBeingStored(earlier: string, later: string) {
    await drain();
    await accept(earlier);
    const head = await accept(later);
    await new Promise((resolve) => setTimeout(resolve, 2));
    const jobs = [await take(), await take()];
    const here = new IngestWatermark(queue, { ORDERING_SETTLE_MS: 0 } as Settings);
    return { head, jobs, here };
  }

  it('lets a head go past a webhook this process stored whose job has not finished', async () => {
    const { head, jobs, here } = await twoBeingStored('evt_stored_here', 'evt_after_stored');
    const place = { laneAt: head, eventId: 'evt_after_stored' };
    expect((await here.waitFor(place, NOW_OR_NEVER_MS)).go).toBe(false);
    const storedAt = Date.now();
    here.stored('evt_stored_here');
    const verdict = await here.waitFor(place, NOW_OR_NEVER_MS);
    expect(verdict).toEqual({ go: true, knownAt: expect.any(Number) });
    // Known once stored: what the head loaded before that may not show it.
    expect((verdict as { knownAt: number }).knownAt).toBeGreaterThanOrEqual(storedAt);
    // Another process does not know it is stored: its job holds the head there.
    expect(await mayGo(head, 'evt_after_stored')).toBe(false);
    // Finished, it is forgotten here and no longer listed by Redis.
    await jobs[0].moveToCompleted('stored', 'token', false);
    here.ingestFinished('evt_stored_here');
    expect(await mayGo(head, 'evt_after_stored')).toBe(true);
    await jobs[1].moveToCompleted('stored', 'token', false);
  });

  it('lets a waiting head go as soon as the webhook before it is stored here, its job still active', async () => {
    const { head, jobs, here } = await twoBeingStored('evt_being_stored', 'evt_waits_for_store');
    const decision = here.waitFor({ laneAt: head, eventId: 'evt_waits_for_store' }, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const storedAt = Date.now();
    here.stored('evt_being_stored');
    const verdict = await decision;
    expect(verdict).toEqual({ go: true, knownAt: expect.any(Number) });
    expect((verdict as { knownAt: number }).knownAt).toBeGreaterThanOrEqual(storedAt);
    // Its job never finished meanwhile: the head went on what this process knows.
    expect(await queue.getJobState('evt_being_stored')).toBe('active');
    for (const job of jobs) await job.moveToCompleted('stored', 'token', false);
  });

  it('holds a head behind more unfinished webhooks than a reading lists, stored here or not', async () => {
    await drain();
    const here = new IngestWatermark(queue, { ORDERING_SETTLE_MS: 0 } as Settings);
    for (let index = 0; index < 60; index++) {
      await accept(`evt_many_${index}`);
      here.stored(`evt_many_${index}`);
    }
    const head = await accept('evt_behind_many');
    await new Promise((resolve) => setTimeout(resolve, 2));
    // The 50 listed are stored here; the 10 past them are only counted.
    expect((await here.waitFor({ laneAt: head, eventId: 'evt_behind_many' }, 20)).go).toBe(false);
    await drain();
    expect((await here.waitFor({ laneAt: head, eventId: 'evt_behind_many' }, 20)).go).toBe(true);
  });

  it('stops holding heads behind a webhook accepted more than INGEST_WAIT_MAX_MS ago', async () => {
    await drain();
    const head = await clock.accept('evt_behind_old');
    clock.queued('evt_behind_old');
    await queueJob('evt_ancient', head - INGEST_WAIT_MAX_MS - 1_000);
    await queueJob('evt_recent', head - 10);
    await new Promise((resolve) => setTimeout(resolve, 2));
    // The ancient one no longer holds; the recent one, also before the head, still does.
    expect(await mayGo(head, 'evt_behind_old')).toBe(false);
    await drain();
    expect(await mayGo(head, 'evt_behind_old')).toBe(true);
  });

  it('lets a waiting head go once the webhook before it is stored', async () => {
    await drain();
    await accept('evt_slow');
    const head = await accept('evt_waiting');
    const started = Date.now();
    const decision = watermark.waitFor({ laneAt: head, eventId: 'evt_waiting' }, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await storeNext();
    watermark.ingestFinished();
    const verdict = await decision;
    expect(verdict).toEqual({ go: true, knownAt: expect.any(Number) });
    // Known after the wait began: what the head loaded before may not show the stored webhook.
    expect((verdict as { knownAt: number }).knownAt).toBeGreaterThanOrEqual(started + 50);
    expect(Date.now() - started).toBeLessThan(1_000);
    await storeNext();
  });

  it('answers how long to wait elsewhere when the budget runs out', async () => {
    await drain();
    await accept('evt_stuck');
    const head = await accept('evt_behind');
    const verdict = await watermark.waitFor({ laneAt: head, eventId: 'evt_behind' }, 20);
    if (verdict.go) throw new Error('the head should wait');
    expect(verdict.delayMs).toBeGreaterThanOrEqual(50);
    await drain();
  });
});
