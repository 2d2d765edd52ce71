import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { Settings } from '../config/settings';
import { DeliveriesRepository } from '../delivery/deliveries.repository';
import { EventsRepository } from '../events/events.repository';
import { DELIVERY_QUEUE, INGEST_QUEUE, MAINTENANCE_QUEUE } from '../queues/queue-names';

/** Rows per DELETE: short statements, short locks. */
export const RETENTION_BATCH_SIZE = 5000;
/** Completed jobs are in Postgres already; their copy in Redis goes after an hour. */
const COMPLETED_JOB_GRACE_MS = 3600_000;
const JOB_CLEAN_LIMIT = 1000;
const DAY_MS = 24 * 3600_000;

export interface PurgeCounts {
  events: number;
  attempts: number;
  completedJobs: number;
  failedJobs: number;
}

/**
 * Deletes what is older than the retention settings (never conversations or contacts): events (their deliveries and attempts
 * cascade) unless a delivery of theirs may still be attempted, attempts of finished deliveries,
 * and finished jobs. Failed ingest jobs hold a webhook that was never stored: they are kept as
 * long as events are. Completed ingest jobs are left to their own removeOnComplete.
 */
@Injectable()
export class RetentionService {
  private readonly queues: Queue[];

  constructor(
    private readonly events: EventsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly settings: Settings,
    @InjectQueue(INGEST_QUEUE) private readonly ingest: Queue,
    @InjectQueue(DELIVERY_QUEUE) delivery: Queue,
    @InjectQueue(MAINTENANCE_QUEUE) maintenance: Queue,
  ) {
    this.queues = [ingest, delivery, maintenance];
  }

  async purge(now: Date = new Date()): Promise<PurgeCounts> {
    const counts: PurgeCounts = { events: 0, attempts: 0, completedJobs: 0, failedJobs: 0 };
    const { RETENTION_EVENTS_DAYS: eventDays, RETENTION_ATTEMPTS_DAYS: attemptDays } =
      this.settings;
    if (eventDays > 0) {
      const cutoff = new Date(now.getTime() - eventDays * DAY_MS);
      counts.events = await untilShort(() =>
        this.events.deleteReceivedBefore(cutoff, RETENTION_BATCH_SIZE),
      );
      // Conversations and contacts stay; their timelines say from when events may be missing.
      if (counts.events > 0) await this.events.recordPurgeHorizon(cutoff);
    }
    if (attemptDays > 0) {
      counts.attempts = await this.deliveries.deleteFinishedAttempts(
        new Date(now.getTime() - attemptDays * DAY_MS),
        RETENTION_BATCH_SIZE,
      );
    }
    for (const queue of this.queues) {
      // Cleaning would drop their dedupe ids too; removeOnComplete trims them and keeps those.
      if (queue !== this.ingest) {
        counts.completedJobs += await this.cleanJobs(queue, COMPLETED_JOB_GRACE_MS, 'completed');
      }
      if (eventDays > 0) {
        counts.failedJobs += await this.cleanJobs(queue, eventDays * DAY_MS, 'failed');
      }
    }
    return counts;
  }

  private async cleanJobs(
    queue: Queue,
    graceMs: number,
    type: 'completed' | 'failed',
  ): Promise<number> {
    let total = 0;
    for (;;) {
      const removed = await queue.clean(graceMs, JOB_CLEAN_LIMIT, type);
      total += removed.length;
      if (removed.length < JOB_CLEAN_LIMIT) return total;
    }
  }
}

/** Runs a batched delete until a batch comes back short: short statements, short locks. */
async function untilShort(deleteBatch: () => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const count = await deleteBatch();
    total += count;
    if (count < RETENTION_BATCH_SIZE) return total;
  }
}
