import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppError } from '../common/app-error';
import { ACTION_QUEUE, DELIVERY_QUEUE, INGEST_QUEUE } from '../queues/queue-names';

export const JOB_STATES = [
  'waiting',
  'active',
  'delayed',
  'failed',
  'completed',
  'paused',
  'prioritized',
] as const;
export type JobState = (typeof JOB_STATES)[number];
export type JobCounts = Record<JobState, number>;

export interface QueueCounts {
  name: string;
  counts: JobCounts;
}

/** BullMQ's connections wait for Redis forever; a count that takes longer than this is given up. */
const COUNT_TIMEOUT_MS = 2000;

/** Jobs per queue and state, for GET /api/queues and the queue gauge of /metrics. */
@Injectable()
export class QueueStats {
  private readonly queues: Queue[];

  constructor(
    @InjectQueue(INGEST_QUEUE) ingest: Queue,
    @InjectQueue(DELIVERY_QUEUE) delivery: Queue,
    @InjectQueue(ACTION_QUEUE) actions: Queue,
  ) {
    this.queues = [ingest, delivery, actions];
  }

  /** Throws `queue_unavailable` when Redis does not answer in time. */
  async counts(): Promise<QueueCounts[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AppError('queue_unavailable', 'Redis did not answer; retry later')),
        COUNT_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([
        Promise.all(this.queues.map((queue) => countJobs(queue))),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function countJobs(queue: Queue): Promise<QueueCounts> {
  const counts = await queue.getJobCounts(...JOB_STATES);
  return {
    name: queue.name,
    counts: Object.fromEntries(JOB_STATES.map((state) => [state, counts[state] ?? 0])) as JobCounts,
  };
}
