import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { EntityManager } from 'typeorm';
import { batchPerTurn } from '../database/batching';
import { DELIVERY_QUEUE, DeliveryJob, DeliveryJobName } from '../queues/queue-names';
import { DeliveriesRepository, DeliveryRun } from './deliveries.repository';
import { DeliveryEntity } from './delivery.entity';
import { deliveryJobId, fanOutJobId, StrandedDeliveries } from './stranded-deliveries';

/**
 * BullMQ's own attempt budget per job. The processor decides when a delivery is dead from the
 * attempts recorded in Postgres (at most 100 per run); the margin absorbs attempts that failed
 * inside the router (Postgres down) and were never sent.
 */
const JOB_ATTEMPTS = 150;
const ENQUEUE_CHUNK = 1000;

type QueuedJob = DeliveryJob & { jobId: string; delayMs: number };

/** Makes deliveries and queues their jobs: rows exist before any job is queued. */
@Injectable()
export class DeliveryProducer {
  private readonly jobs = batchPerTurn<QueuedJob, true>(
    (batch) => this.addJobs(batch),
    ENQUEUE_CHUNK,
  );

  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly stranded: StrandedDeliveries,
    @InjectQueue(DELIVERY_QUEUE)
    private readonly queue: Queue<DeliveryJob['data'], void, DeliveryJobName>,
  ) {}

  /**
   * Persists one delivery per subscription; rows exist before any job is queued. An ordered
   * subscription's delivery of an event with a conversation is held at the tail of its lane.
   */
  createForEvent(
    manager: EntityManager,
    eventId: string,
    subscriptions: { id: string; ordered: boolean }[],
    conversationKey: string | null,
  ): Promise<DeliveryEntity[]> {
    return this.deliveries.insertPending(
      manager,
      eventId,
      subscriptions.map((subscription) => ({
        subscriptionId: subscription.id,
        laneKey: subscription.ordered ? conversationKey : null,
      })),
    );
  }

  /** The event's pending deliveries that no queued job holds. */
  async strandedOfEvent(eventId: string): Promise<DeliveryEntity[]> {
    return this.stranded.among(await this.deliveries.pendingOfEvent(eventId));
  }

  /**
   * Queues the first attempts of an event's new deliveries as one job, which makes them together
   * (a failed one is then retried by a job of its own). Its id names the event and the first
   * delivery, so queueing the same deliveries twice (a retried ingest job) is harmless.
   */
  async enqueueFirstAttempts(eventId: string, deliveries: DeliveryRun[]): Promise<void> {
    if (deliveries.length === 0) return;
    const sorted = [...deliveries].sort((a, b) => a.id.localeCompare(b.id));
    await this.jobs.load({
      name: 'delivery.fanout',
      data: {
        eventId,
        deliveries: sorted.map((delivery) => ({ deliveryId: delivery.id, run: delivery.run })),
      },
      jobId: fanOutJobId(eventId, sorted[0].id),
      delayMs: 0,
    });
  }

  /**
   * Queues one job per delivery run, after `delayMs`. The job id is the delivery id (plus the run
   * after a re-drive), so queueing twice is harmless; the processor decides retries and delays.
   */
  async enqueue(deliveries: DeliveryRun[], delayMs = 0): Promise<void> {
    await Promise.all(
      deliveries.map((delivery) =>
        this.jobs.load({
          name: 'delivery.send',
          data: { deliveryId: delivery.id, run: delivery.run },
          jobId: deliveryJobId(delivery),
          delayMs,
        }),
      ),
    );
  }

  /** What concurrent callers queue within one event-loop turn goes to Redis as one addBulk. */
  private async addJobs(jobs: readonly QueuedJob[]): Promise<true[]> {
    await this.queue.addBulk(
      jobs.map(({ name, data, jobId, delayMs }) => ({
        name,
        data,
        opts: {
          jobId,
          delay: delayMs > 0 ? delayMs : undefined,
          attempts: JOB_ATTEMPTS,
          backoff: { type: 'delivery' },
          removeOnComplete: { age: 3600, count: 10_000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      })),
    );
    return jobs.map(() => true);
  }
}
