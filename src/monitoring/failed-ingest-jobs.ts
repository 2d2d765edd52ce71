import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { INGEST_QUEUE } from '../queues/queue-names';

const BATCH = 100;

/**
 * Ingest jobs that ran out of attempts (Postgres down for long) still hold their webhook's raw
 * body. This puts them back in the queue, each with its full budget of attempts again.
 */
@Injectable()
export class FailedIngestJobs {
  constructor(@InjectQueue(INGEST_QUEUE) private readonly ingest: Queue) {}

  /** How many went back to waiting. */
  async retryAll(): Promise<number> {
    let retried = 0;
    for (;;) {
      const jobs = await this.ingest.getFailed(0, BATCH - 1);
      const moved = await Promise.all(
        jobs.map((job) =>
          job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).then(
            () => 1,
            // Retried or removed by someone else meanwhile.
            () => 0,
          ),
        ),
      );
      const count = moved.reduce<number>((sum, one) => sum + one, 0);
      retried += count;
      if (jobs.length < BATCH || count === 0) return retried;
    }
  }
}
