import { Injectable } from '@nestjs/common';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { SubscriptionSnapshot } from '../subscriptions/subscription-snapshot';
import { DeliveriesRepository, DeliveryRun } from './deliveries.repository';
import { DeliveryEntity, DeliveryStatus } from './delivery.entity';
import { AttemptOutcome } from '../outbound/http-sender';
import { StepAfterAttempt } from './next-step';
import { SubscriptionHealth } from './subscription-health';

/** A delivery to send, with what signing and sending it needs. */
export interface DeliveryToSend {
  delivery: Pick<
    DeliveryEntity,
    | 'id'
    | 'eventId'
    | 'subscriptionId'
    | 'status'
    | 'run'
    | 'attemptCount'
    | 'runAttemptBase'
    | 'nextAttemptAt'
    | 'laneKey'
    | 'laneAt'
  >;
  /** Ordered: an unfinished delivery of its conversation is ahead of it; it must not be sent. */
  overtaken: boolean;
  /**
   * When the load that found `overtaken` was sent (this process's clock); null: known from
   * memory, `overtaken` not checked.
   */
  loadSentAt: number | null;
  subscription: SubscriptionEntity;
  /** The canonical event as stored (JSON text). */
  canonicalJson: string;
  /** Its UTF-8 bytes, when made already for another delivery of the event. */
  canonicalBytes?: Buffer;
  rawBody: string | null;
}

/** What an attempt changed beyond the delivery. */
export interface AttemptRecorded {
  status: DeliveryStatus;
  /** Set when this attempt disabled the subscription (410, or too many dead deliveries). */
  disabledReason: string | null;
}

/** The delivery worker's side: loading what an attempt needs, recording what it did. */
@Injectable()
export class DeliveryAttempts {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly snapshot: SubscriptionSnapshot,
    private readonly health: SubscriptionHealth,
  ) {}

  /**
   * A delivery with what sending it needs: its state and event from one (batched) query, the
   * subscription with its secrets from the snapshot (Postgres when not enabled there).
   */
  async loadForSending(deliveryId: string): Promise<DeliveryToSend | null> {
    const loadSentAt = Date.now();
    const row = await this.deliveries.loadForSending(deliveryId);
    if (!row?.canonical) return null;
    const subscription = await this.snapshot.withSecrets(row.subscription_id);
    if (!subscription) return null;
    const rawBody =
      subscription.payloadFormat === 'raw' ? await this.deliveries.rawBodyOf(row.event_id) : null;
    return {
      delivery: {
        id: row.id,
        eventId: row.event_id,
        subscriptionId: row.subscription_id,
        status: row.status,
        run: row.run,
        attemptCount: row.attempt_count,
        runAttemptBase: row.run_attempt_base,
        nextAttemptAt: row.next_attempt_at,
        laneKey: row.lane_key,
        laneAt: row.lane_at,
      },
      overtaken: row.overtaken,
      loadSentAt,
      subscription,
      canonicalJson: row.canonical,
      rawBody,
    };
  }

  /**
   * Records an attempt and the delivery's new state in one (batched) statement, the row locked
   * while it runs; a success also resets the subscription's run of dead deliveries. A dead delivery
   * then extends that run (and may disable the subscription), and 410 Gone disables it at once.
   */
  async recordAttempt(
    delivery: Pick<DeliveryEntity, 'id' | 'run' | 'subscriptionId'>,
    outcome: AttemptOutcome,
    startedAt: Date,
    next: StepAfterAttempt,
    /** The head of a conversation whose subscription blocks on a dead head (onDead "block"). */
    blocking = false,
  ): Promise<AttemptRecorded> {
    const status = next.kind === 'dead' && blocking ? 'blocked' : STATUS_AFTER[next.kind];
    const recorded = await this.deliveries.recordAttempt({
      deliveryId: delivery.id,
      run: delivery.run,
      subscriptionId: delivery.subscriptionId,
      outcome,
      startedAt,
      status,
      nextAttemptAt: next.kind === 'retry' ? next.nextAttemptAt : null,
      completedAt: status === 'succeeded' || status === 'dead' ? new Date() : null,
    });
    if (!recorded) return { status, disabledReason: null };
    // A blocked head died all the same: it counts towards disabling the subscription.
    const ended = status === 'blocked' ? 'dead' : status;
    const disabledReason =
      ended === 'dead' || outcome.gone
        ? await this.health.judge(delivery.subscriptionId, { status: ended, outcome })
        : null;
    return { status: recorded.ownsState ? status : recorded.previousStatus, disabledReason };
  }

  /** Ends a delivery without an attempt (its subscription was disabled meanwhile). */
  abandon(delivery: DeliveryRun, reason: string, status?: 'dead' | 'blocked'): Promise<void> {
    return this.deliveries.abandon(delivery, reason, status);
  }
}

const STATUS_AFTER: Record<StepAfterAttempt['kind'], DeliveryStatus> = {
  done: 'succeeded',
  retry: 'failed',
  dead: 'dead',
};
