import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue, UnrecoverableError } from 'bullmq';
import { Settings } from '../config/settings';
import { MAINTENANCE_QUEUE, MaintenanceJobName } from '../queues/queue-names';
import { PurgeCounts, RetentionService } from './retention.service';

export const RETENTION_SCHEDULER_ID = 'retention';

/**
 * Runs the retention purge from a BullMQ job scheduler: every worker upserts the same scheduler,
 * and BullMQ makes one job per interval, which one worker takes.
 */
@Processor(MAINTENANCE_QUEUE, { concurrency: 1 })
export class RetentionProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(RetentionProcessor.name);

  constructor(
    private readonly retention: RetentionService,
    private readonly settings: Settings,
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    const minutes = this.settings.RETENTION_INTERVAL_MINUTES;
    if (minutes === 0) {
      await this.queue.removeJobScheduler(RETENTION_SCHEDULER_ID);
      return;
    }
    await this.queue.upsertJobScheduler(
      RETENTION_SCHEDULER_ID,
      { every: minutes * 60_000 },
      {
        name: 'retention.purge' satisfies MaintenanceJobName,
        data: {},
        opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      },
    );
  }

  async process(job: Job<unknown, unknown, MaintenanceJobName>): Promise<PurgeCounts> {
    switch (job.name) {
      case 'retention.purge': {
        const counts = await this.retention.purge(new Date());
        this.logger.log({ msg: 'retention purge', ...counts });
        return counts;
      }
      default: {
        const unknown: never = job.name;
        throw new UnrecoverableError(`unknown maintenance job ${String(unknown)}`);
      }
    }
  }
}
