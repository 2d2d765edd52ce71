import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Job, Queue, UnrecoverableError } from 'bullmq';
import { StrandedActions } from '../actions/stranded-actions';
import { Settings } from '../config/settings';
import { DeliveriesService } from '../delivery/deliveries.service';
import { OrderedLanes } from '../delivery/ordered-lanes';
import { MAINTENANCE_QUEUE, MaintenanceJobName } from '../queues/queue-names';
import { RetentionService } from './retention.service';

export const RETENTION_SCHEDULER_ID = 'retention';
export const DELIVERY_SWEEP_SCHEDULER_ID = 'delivery-sweep';
export const FIRST_ATTEMPT_SWEEP_SCHEDULER_ID = 'first-attempt-sweep';
export const ORDERING_SWEEP_SCHEDULER_ID = 'ordering-sweep';
export const ACTION_SWEEP_SCHEDULER_ID = 'action-sweep';

/**
 * Runs housekeeping from BullMQ job schedulers: every worker upserts the same schedulers, and
 * BullMQ makes one job per interval, which one worker takes.
 */
@Processor(MAINTENANCE_QUEUE, { concurrency: 1 })
export class MaintenanceProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(MaintenanceProcessor.name);

  constructor(
    private readonly retention: RetentionService,
    private readonly deliveries: DeliveriesService,
    private readonly lanes: OrderedLanes,
    private readonly actions: StrandedActions,
    private readonly settings: Settings,
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.schedule(
      RETENTION_SCHEDULER_ID,
      'retention.purge',
      this.settings.RETENTION_INTERVAL_MINUTES,
    );
    await this.schedule(
      DELIVERY_SWEEP_SCHEDULER_ID,
      'deliveries.sweep',
      this.settings.DELIVERY_SWEEP_INTERVAL_MINUTES,
    );
    await this.schedule(
      FIRST_ATTEMPT_SWEEP_SCHEDULER_ID,
      'deliveries.sweepFirstAttempts',
      this.settings.FIRST_ATTEMPT_SWEEP_INTERVAL_SECONDS / 60,
    );
    await this.schedule(
      ORDERING_SWEEP_SCHEDULER_ID,
      'ordering.sweep',
      this.settings.ORDERING_SWEEP_INTERVAL_SECONDS / 60,
    );
    await this.schedule(
      ACTION_SWEEP_SCHEDULER_ID,
      'actions.sweep',
      this.settings.ACTION_SWEEP_INTERVAL_MINUTES,
    );
  }

  private async schedule(id: string, name: MaintenanceJobName, minutes: number): Promise<void> {
    if (minutes === 0) {
      await this.queue.removeJobScheduler(id);
      return;
    }
    await this.queue.upsertJobScheduler(
      id,
      { every: Math.round(minutes * 60_000) },
      {
        name,
        data: {},
        opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      },
    );
  }

  async process(job: Job<unknown, unknown, MaintenanceJobName>): Promise<unknown> {
    switch (job.name) {
      case 'retention.purge': {
        const counts = await this.retention.purge(new Date());
        this.logger.log({ msg: 'retention purge', ...counts });
        return counts;
      }
      case 'deliveries.sweep': {
        const counts = await this.deliveries.requeueStranded();
        if (counts.requeued > 0)
          this.logger.warn({ msg: 'stranded deliveries re-queued', ...counts });
        return counts;
      }
      case 'deliveries.sweepFirstAttempts': {
        const counts = await this.deliveries.requeueStrandedFirstAttempts();
        if (counts.requeued > 0)
          this.logger.warn({ msg: 'first attempts whose sender died re-queued', ...counts });
        return counts;
      }
      case 'ordering.sweep': {
        const counts = await this.lanes.sweep();
        if (counts.lanesReleased + counts.headsRequeued > 0)
          this.logger.warn({ msg: 'ordered conversations released by the sweep', ...counts });
        return counts;
      }
      case 'actions.sweep': {
        const counts = await this.actions.requeue();
        if (counts.requeued > 0) this.logger.warn({ msg: 'stranded actions re-queued', ...counts });
        return counts;
      }
      default: {
        const unknown: never = job.name;
        throw new UnrecoverableError(`unknown maintenance job ${String(unknown)}`);
      }
    }
  }
}
