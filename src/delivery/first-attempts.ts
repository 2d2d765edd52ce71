import { Injectable, Logger } from '@nestjs/common';
import { DetachedWork } from '../common/graceful-shutdown';
import { Settings } from '../config/settings';
import { MetricsService } from '../monitoring/metrics.service';
import { SubscriptionSnapshot } from '../subscriptions/subscription-snapshot';
import { DeliveryRun } from './deliveries.repository';
import { DeliveryProducer } from './delivery-producer';
import { DeliverySender } from './delivery-sender';
import { DeliveryProcessor } from './delivery.processor';

/** An event just stored, as the ingest job holds it. */
export interface StoredEventInMemory {
  eventId: string;
  /** The canonical event's JSON text, as stored (a `json` column keeps it verbatim). */
  canonicalJson: string;
  rawBody: string;
  /** When the router accepted it: an ordered delivery's place in its lane. */
  receivedAt: Date;
}

/**
 * A delivery row the same statement created: pending, run 0, no attempt; in no lane, or the
 * head of its lane (`laneKey`).
 */
export interface NewDelivery {
  id: string;
  subscriptionId: string;
  laneKey: string | null;
}

/**
 * Makes the first attempts of an event's new deliveries right after the ingest job stored them,
 * from what that job holds in memory: no fan-out job, no reload (an ordered head, once the
 * webhooks accepted before it are stored, is loaded again to see that none of them went ahead of
 * it in its lane). The ingest job does not wait for them (a slow receiver must not hold an
 * ingest slot): the sends run detached, at most FIRST_ATTEMPTS_IN_FLIGHT deliveries at once in
 * this process; beyond that, and while this process's delivery worker is paused or closing, the
 * event gets its fan-out job as before.
 *
 * What follows an attempt is queued as the fan-out job queues it (a retry after the policy's
 * delay, a rate-limited delivery after the window's wait). A send that fails inside the router
 * (Postgres or Redis down) hands its deliveries to a fan-out job, which resumes them. A process
 * killed mid-send leaves its deliveries pending with no job: the first-attempt sweep
 * (`DeliveriesService.requeueStrandedFirstAttempts`) queues them again.
 */
@Injectable()
export class FirstAttempts extends DetachedWork {
  private readonly logger = new Logger(FirstAttempts.name);
  private readonly inFlight = new Set<string>();
  private readonly sending = new Set<Promise<void>>();
  private sendsStarted = 0;
  private closing = false;

  constructor(
    private readonly sender: DeliverySender,
    private readonly producer: DeliveryProducer,
    private readonly snapshot: SubscriptionSnapshot,
    private readonly processor: DeliveryProcessor,
    private readonly settings: Settings,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  /**
   * Starts the first attempts of the event's new deliveries without waiting for them, or queues
   * its fan-out job when this process has no room for them; resolves once either is under way.
   */
  async start(event: StoredEventInMemory, deliveries: NewDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    if (
      this.closing ||
      this.inFlight.size + deliveries.length > this.settings.FIRST_ATTEMPTS_IN_FLIGHT ||
      !this.processor.delivering()
    ) {
      await this.producer.enqueueFirstAttempts(event.eventId, deliveries.map(firstRun));
      this.metrics.firstAttemptsStarted('fanout', deliveries.length);
      return;
    }
    this.metrics.firstAttemptsStarted('ingest', deliveries.length);
    for (const delivery of deliveries) this.inFlight.add(delivery.id);
    this.sendsStarted += 1;
    const sending = this.sendAll(event, deliveries).finally(() => {
      for (const delivery of deliveries) this.inFlight.delete(delivery.id);
      this.sending.delete(sending);
    });
    this.sending.add(sending);
  }

  /** Those of the deliveries this process is not sending right now. */
  notInFlight<T extends { id: string }>(deliveries: T[]): T[] {
    return deliveries.filter((delivery) => !this.inFlight.has(delivery.id));
  }

  /** Sends in flight, and how many events' sends were ever started (tests wait on both). */
  activity(): { inFlight: number; started: number } {
    return { inFlight: this.inFlight.size, started: this.sendsStarted };
  }

  /** Stops starting sends and waits for those in flight (graceful shutdown). */
  async drain(): Promise<void> {
    this.closing = true;
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }

  private async sendAll(event: StoredEventInMemory, deliveries: NewDelivery[]): Promise<void> {
    // The canonical JSON's bytes, encoded once for all the event's subscriptions that take it.
    let bytes: Buffer | undefined;
    const canonicalBytes = () => (bytes ??= Buffer.from(event.canonicalJson, 'utf8'));
    const results = await Promise.allSettled(
      deliveries.map((delivery) => this.sendFirst(event, delivery, canonicalBytes)),
    );
    const failed = deliveries.filter((_, index) => results[index].status === 'rejected');
    if (failed.length === 0) return;
    const reason = (results.find((result) => result.status === 'rejected') as PromiseRejectedResult)
      .reason as Error;
    try {
      await this.producer.enqueueFirstAttempts(event.eventId, failed.map(firstRun));
      this.logger.warn(
        `event ${event.eventId}: ${failed.length} first attempts failed in the router (${reason?.message}); handed to a fan-out job`,
      );
    } catch (error) {
      this.logger.error(
        `event ${event.eventId}: ${failed.length} first attempts failed in the router (${reason?.message}) and could not be queued (${(error as Error).message}); the first-attempt sweep will queue them`,
      );
    }
  }

  private async sendFirst(
    event: StoredEventInMemory,
    delivery: NewDelivery,
    canonicalBytes: () => Buffer,
  ): Promise<void> {
    const subscription = await this.snapshot.withSecrets(delivery.subscriptionId);
    if (!subscription) return; // deleted since it matched: its delivery went with it
    const next = await this.sender.sendLoaded(
      {
        delivery: {
          id: delivery.id,
          eventId: event.eventId,
          subscriptionId: delivery.subscriptionId,
          status: 'pending',
          run: 0,
          attemptCount: 0,
          runAttemptBase: 0,
          nextAttemptAt: null,
          laneKey: delivery.laneKey,
          laneAt: delivery.laneKey ? event.receivedAt : null,
        },
        // A head is loaded again, to check this, once the webhooks accepted before it are stored.
        overtaken: false,
        loadSentAt: null,
        subscription,
        canonicalJson: event.canonicalJson,
        canonicalBytes: subscription.payloadFormat === 'canonical' ? canonicalBytes() : undefined,
        rawBody: subscription.payloadFormat === 'raw' ? event.rawBody : null,
      },
      0,
      false,
    );
    if (next.kind === 'wait' || next.kind === 'retry') {
      await this.producer.enqueue([firstRun(delivery)], next.delayMs);
    }
  }
}

function firstRun({ id }: { id: string }): DeliveryRun {
  return { id, run: 0 };
}
