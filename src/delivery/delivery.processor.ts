import { Processor, WorkerHost } from '@nestjs/bullmq';
import { OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { Settings } from '../config/settings';
import {
  DELIVERY_QUEUE,
  DeliveryJob,
  DeliveryJobData,
  DeliveryJobName,
  FanOutJobData,
} from '../queues/queue-names';
import { DeliveryProducer } from './delivery-producer';
import { DeliverySender } from './delivery-sender';

/** A failed attempt that another may fix, thrown with the wait the retry policy chose. */
export class RetryableDeliveryError extends Error {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
    this.name = 'RetryableDeliveryError';
  }
}

/**
 * BullMQ asks this for every retry's delay. Attempts are planned by the processor (it threw the
 * delay); anything else went wrong inside the router (Postgres down…) and backs off exponentially.
 */
export function deliveryBackoff(attemptsMade: number, _type?: string, error?: Error): number {
  if (error instanceof RetryableDeliveryError) return error.delayMs;
  return Math.min(1000 * 2 ** Math.min(attemptsMade, 16), 60_000);
}

@Processor(DELIVERY_QUEUE, { settings: { backoffStrategy: deliveryBackoff } })
export class DeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly sender: DeliverySender,
    private readonly producer: DeliveryProducer,
    private readonly settings: Settings,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.settings.DELIVERY_CONCURRENCY;
  }

  /** Whether this process delivers now: its worker runs and is not paused (nor closing). */
  delivering(): boolean {
    return this.worker.isRunning() && !this.worker.isPaused();
  }

  async process(job: Job<DeliveryJob['data'], void, DeliveryJobName>, token?: string) {
    const typed = job as DeliveryJob;
    switch (typed.name) {
      case 'delivery.send':
        return this.sendQueued(job, typed.data, token);
      case 'delivery.fanout':
        return this.fanOut(typed.data);
      default: {
        const unknown: never = typed;
        throw new UnrecoverableError(`unknown delivery job ${(unknown as Job).name}`);
      }
    }
  }

  /** One delivery's job: its first attempt was made by a fan-out job, or it was re-driven. */
  private async sendQueued(job: Job, data: DeliveryJobData, token?: string): Promise<void> {
    const next = await this.sender.send(data.deliveryId, data.run ?? 0, false);
    switch (next.kind) {
      case 'done':
        return;
      case 'wait':
        // Rate limited: waits outside the worker's slots and costs no attempt.
        await job.moveToDelayed(Date.now() + next.delayMs, token);
        throw new DelayedError();
      case 'retry':
        throw new RetryableDeliveryError(next.error, next.delayMs);
      case 'dead':
        throw new UnrecoverableError(next.error);
    }
  }

  /**
   * The first attempts of an event's deliveries, made together: one job instead of one per
   * subscription. A delivery that must wait (rate limit) or be tried again gets a job of its
   * own for later. Run again after a failure inside the router, it skips what is done and makes
   * sure every delivery waiting for a retry has its job.
   */
  private async fanOut({ deliveries }: FanOutJobData): Promise<void> {
    const results = await Promise.allSettled(
      deliveries.map(async ({ deliveryId, run }) => {
        const next = await this.sender.send(deliveryId, run, true);
        if (next.kind === 'wait' || next.kind === 'retry') {
          await this.producer.enqueue([{ id: deliveryId, run }], next.delayMs);
        }
      }),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
