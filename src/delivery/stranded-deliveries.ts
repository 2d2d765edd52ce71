import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { JobState, Queue } from 'bullmq';
import { DELIVERY_QUEUE } from '../queues/queue-names';
import { DeliveriesRepository, QueuedDelivery } from './deliveries.repository';

/** A job in one of these states has finished: it will make no attempt. */
const FINISHED: readonly (JobState | 'unknown')[] = ['completed', 'failed', 'unknown'];

/** The job of one run of one delivery: `<id>` in run 0, `<id>-r<run>` after a retry or re-drive. */
export function deliveryJobId({ id, run }: { id: string; run: number }): string {
  return run === 0 ? id : `${id}-r${run}`;
}

/** The job making the first attempts of deliveries created together, named by the first of them. */
export function fanOutJobId(eventId: string, firstDeliveryId: string): string {
  return `${eventId}-${firstDeliveryId}`;
}

/**
 * Finds deliveries that no queued job will attempt: their job failed for good (a worker crashing
 * on it, attempts exhausted), was removed from Redis, or was never queued (a crash between the
 * row and the job). A delivery is held by its own job of its run, or in run 0 by the fan-out job
 * of the deliveries created with it; a job holds it while waiting, delayed or active.
 */
@Injectable()
export class StrandedDeliveries {
  constructor(
    @InjectQueue(DELIVERY_QUEUE) private readonly queue: Queue,
    private readonly deliveries: DeliveriesRepository,
  ) {}

  /** Those of the deliveries no unfinished job holds. */
  async among<T extends QueuedDelivery>(deliveries: T[]): Promise<T[]> {
    if (deliveries.length === 0) return [];
    // Fan-out jobs first: one hands a delivery a job of its own before it finishes, so a fan-out
    // seen finished here means that job, if any, is there to be seen next.
    const fanOuts = await this.fanOutCandidates(deliveries);
    const liveFanOuts = await this.unfinished([...new Set([...fanOuts.values()].flat())]);
    const liveOwnJobs = await this.unfinished(deliveries.map(deliveryJobId));
    return deliveries.filter(
      (delivery) =>
        !liveOwnJobs.has(deliveryJobId(delivery)) &&
        !(fanOuts.get(delivery) ?? []).some((jobId) => liveFanOuts.has(jobId)),
    );
  }

  /**
   * The fan-out job ids that may hold each run-0 delivery. Its batch is named by its first
   * delivery, one of the event's deliveries whose id is not above its own; a live fan-out of
   * another batch only makes the delivery look held until that job finishes.
   */
  private async fanOutCandidates<T extends QueuedDelivery>(
    deliveries: T[],
  ): Promise<Map<T, string[]>> {
    const firstRuns = deliveries.filter((delivery) => delivery.run === 0);
    if (firstRuns.length === 0) return new Map();
    const byEvent = await this.deliveries.idsByEvent([
      ...new Set(firstRuns.map((delivery) => delivery.eventId)),
    ]);
    return new Map(
      firstRuns.map((delivery) => [
        delivery,
        (byEvent.get(delivery.eventId) ?? [])
          .filter((id) => id <= delivery.id)
          .map((id) => fanOutJobId(delivery.eventId, id)),
      ]),
    );
  }

  private async unfinished(jobIds: string[]): Promise<Set<string>> {
    const states = await Promise.all(jobIds.map((jobId) => this.queue.getJobState(jobId)));
    return new Set(jobIds.filter((_, index) => !FINISHED.includes(states[index])));
  }
}
