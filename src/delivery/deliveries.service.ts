import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { EntityManager } from 'typeorm';
import { AppError, notFound } from '../common/app-error';
import { DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { Settings } from '../config/settings';
import { batchPerTurn } from '../database/batching';
import { DELIVERY_QUEUE, DeliveryJob, DeliveryJobName } from '../queues/queue-names';
import { SubscriptionMatcher } from '../routing/subscription-matcher';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import {
  DeliveriesRepository,
  DeliveryRun,
  QueuedDelivery,
  RedriveSelection,
} from './deliveries.repository';
import { deliveryJobId, fanOutJobId, StrandedDeliveries } from './stranded-deliveries';
import { DeliveryView } from './dto/delivery.response';
import { DeliveryEntity, DeliveryStatus } from './delivery.entity';
import { AttemptOutcome } from './http-sender';

/**
 * BullMQ's own attempt budget per job. The processor decides when a delivery is dead from the
 * attempts recorded in Postgres (at most 100 per run); the margin absorbs attempts that failed
 * inside the router (Postgres down) and were never sent.
 */
const JOB_ATTEMPTS = 150;
const ENQUEUE_CHUNK = 1000;
/** Rows are written before their jobs are queued: a delivery untouched this long may be stranded. */
export const STRANDED_AFTER_MS = 5 * 60_000;
const SWEEP_PAGE = 500;
/** Deliveries one sweep looks at, oldest first; the next sweep starts again from the oldest. */
const SWEEP_LIMIT = 10_000;

export interface DeliveryListQuery {
  status?: DeliveryStatus;
  subscriptionId?: string;
  eventId?: string;
  cursor?: string;
  limit?: number;
}

export interface RedriveQuery {
  /** pending: only those no queued job holds (stranded). */
  status: 'dead' | 'failed' | 'pending';
  subscriptionId?: string;
  since?: Date;
}

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
  >;
  subscription: SubscriptionEntity;
  /** The canonical event as stored (JSON text). */
  canonicalJson: string;
  rawBody: string | null;
}

/** What an attempt changed beyond the delivery. */
export interface AttemptRecorded {
  status: DeliveryStatus;
  /** Set when this attempt disabled the subscription (410, or too many dead deliveries). */
  disabledReason: string | null;
}

type Queued = DeliveryRun;
type QueuedJob = DeliveryJob & { jobId: string; delayMs: number };

@Injectable()
export class DeliveriesService {
  private readonly jobs = batchPerTurn<QueuedJob, true>(
    (batch) => this.addJobs(batch),
    ENQUEUE_CHUNK,
  );

  constructor(
    private readonly deliveries: DeliveriesRepository,
    @InjectQueue(DELIVERY_QUEUE)
    private readonly queue: Queue<DeliveryJob['data'], void, DeliveryJobName>,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly settings: Settings,
    private readonly matcher: SubscriptionMatcher,
    private readonly stranded: StrandedDeliveries,
  ) {}

  /** Persists one pending delivery per subscription; rows exist before any job is queued. */
  async createForEvent(
    manager: EntityManager,
    eventId: string,
    subscriptions: Pick<SubscriptionEntity, 'id'>[],
  ): Promise<DeliveryEntity[]> {
    return this.deliveries.insertPending(
      manager,
      eventId,
      subscriptions.map((subscription) => subscription.id),
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
  async enqueueFirstAttempts(eventId: string, deliveries: Queued[]): Promise<void> {
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
  async enqueue(deliveries: Queued[], delayMs = 0): Promise<void> {
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

  /**
   * A delivery with what sending it needs: its state and event from one (batched) query, the
   * subscription from the matcher (its in-memory index, Postgres when not enabled there).
   */
  async loadForSending(deliveryId: string): Promise<DeliveryToSend | null> {
    const row = await this.deliveries.loadForSending(deliveryId);
    if (!row?.canonical) return null;
    const subscription = await this.matcher.withSecrets(row.subscription_id);
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
      },
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
    next: { final: boolean; nextAttemptAt: Date | null },
  ): Promise<AttemptRecorded> {
    const status: DeliveryStatus = outcome.succeeded ? 'succeeded' : next.final ? 'dead' : 'failed';
    const recorded = await this.deliveries.recordAttempt({
      deliveryId: delivery.id,
      run: delivery.run,
      subscriptionId: delivery.subscriptionId,
      outcome,
      startedAt,
      status,
      nextAttemptAt: status === 'failed' ? next.nextAttemptAt : null,
      completedAt: status === 'succeeded' || status === 'dead' ? new Date() : null,
    });
    if (!recorded) return { status, disabledReason: null };
    const disabledReason =
      status === 'dead' || outcome.gone
        ? await this.judgeSubscription(delivery.subscriptionId, { status, outcome })
        : null;
    return { status: recorded.ownsState ? status : recorded.previousStatus, disabledReason };
  }

  /** Ends a delivery without an attempt (its subscription was disabled meanwhile). */
  async abandon(delivery: Pick<DeliveryEntity, 'id' | 'run'>, reason: string): Promise<void> {
    await this.deliveries.abandon(delivery, reason);
  }

  async get(id: string): Promise<DeliveryView> {
    const delivery = await this.deliveries.findWithAttempts(id);
    if (!delivery) throw notFound(`Delivery ${id}`);
    return toDeliveryView(delivery);
  }

  async forEvent(eventId: string): Promise<DeliveryView[]> {
    return (await this.deliveries.ofEvent(eventId)).map(toDeliveryView);
  }

  async list(query: DeliveryListQuery): Promise<Page<DeliveryView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    return toPage(await this.deliveries.page({ ...query, limit }), limit, toDeliveryView);
  }

  /** Sends one delivery again now, as a new run with the subscription's full attempt budget. */
  async retry(id: string): Promise<DeliveryView> {
    const queued = await this.deliveries.startNewRun(id, async (delivery, manager) => {
      if (delivery.status === 'pending' && !(await this.isStranded(delivery))) {
        throw new AppError('conflict', `Delivery ${id} is already queued`);
      }
      const subscription = await this.subscriptions.findById(delivery.subscriptionId, manager);
      if (!subscription?.enabled) {
        throw new AppError(
          'conflict',
          `Subscription ${delivery.subscriptionId} is disabled; enable it before retrying its deliveries`,
        );
      }
    });
    if (!queued) throw notFound(`Delivery ${id}`);
    await this.enqueue([queued]);
    return this.get(id);
  }

  /**
   * Re-drives every dead (or failed, or stranded pending) delivery of enabled subscriptions that
   * the query selects.
   */
  async redrive(query: RedriveQuery): Promise<{ redriven: number }> {
    if (query.subscriptionId) {
      const subscription = await this.subscriptions.findById(query.subscriptionId);
      if (!subscription) throw notFound(`Subscription ${query.subscriptionId}`);
      if (!subscription.enabled) {
        throw new AppError(
          'conflict',
          `Subscription ${query.subscriptionId} is disabled; enable it before re-driving its deliveries`,
        );
      }
    }
    const selection: RedriveSelection = {
      status: query.status,
      subscriptionId: query.subscriptionId,
      since: query.since,
    };
    if (query.status === 'pending') {
      selection.ids = (await this.strandedMatching(selection)).map((delivery) => delivery.id);
    }
    const rows = await this.deliveries.redrive(selection);
    await this.enqueue(rows);
    return { redriven: rows.length };
  }

  /** The deliveries a re-drive selects (page by page) that no queued job holds. */
  private async strandedMatching(selection: RedriveSelection): Promise<QueuedDelivery[]> {
    const stranded: QueuedDelivery[] = [];
    let after = '';
    for (;;) {
      const page = await this.deliveries.redrivable(selection, after, SWEEP_PAGE);
      stranded.push(...(await this.stranded.among(page)));
      if (page.length < SWEEP_PAGE) return stranded;
      after = page[page.length - 1].id;
    }
  }

  private async isStranded(delivery: QueuedDelivery): Promise<boolean> {
    return (await this.stranded.among([delivery])).length > 0;
  }

  /**
   * Queues again the deliveries no job will attempt, among those untouched for
   * STRANDED_AFTER_MS: pending ones, and failed ones whose retry is that overdue. Each is
   * claimed by moving it to a new run in a conditional update, so sweepers running at once
   * queue it once, and a job of the old run that turns up after all finds itself stale. Unlike
   * a re-drive, the run keeps its status and attempt budget: the lost job is replaced, no more.
   */
  async requeueStranded(): Promise<{ checked: number; requeued: number }> {
    let checked = 0;
    let requeued = 0;
    let after = '';
    while (checked < SWEEP_LIMIT) {
      const page = await this.deliveries.untouched(after, STRANDED_AFTER_MS, SWEEP_PAGE);
      checked += page.length;
      requeued += await this.claimAndRequeue(await this.stranded.among(page));
      if (page.length < SWEEP_PAGE) break;
      after = page[page.length - 1].id;
    }
    return { checked, requeued };
  }

  /** Moves each delivery to a new run if it is as it was seen, and queues the ones moved. */
  private async claimAndRequeue(seen: QueuedDelivery[]): Promise<number> {
    const claimed = await this.deliveries.claimUntouched(seen, STRANDED_AFTER_MS);
    await this.enqueue(claimed);
    return claimed.length;
  }

  private async judgeSubscription(
    subscriptionId: string,
    { status, outcome }: { status: DeliveryStatus; outcome: AttemptOutcome },
  ): Promise<string | null> {
    if (outcome.gone) {
      const reason = 'the target answered 410 Gone; the subscription was disabled';
      return (await this.subscriptions.disable(subscriptionId, reason)) ? reason : null;
    }
    if (status !== 'dead') return null;
    return this.subscriptions.countDeadDelivery(subscriptionId, (streak) => {
      const threshold = streak.disableAfterDead ?? this.settings.SUBSCRIPTION_DISABLE_AFTER_DEAD;
      if (threshold === 0 || streak.consecutiveDead < threshold) return null;
      return `${streak.consecutiveDead} consecutive deliveries died (last: ${outcome.error ?? 'unknown error'}); the subscription was disabled`;
    });
  }
}

export function toDeliveryView(delivery: DeliveryEntity): DeliveryView {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    subscriptionId: delivery.subscriptionId,
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
    completedAt: delivery.completedAt?.toISOString() ?? null,
    createdAt: delivery.createdAt.toISOString(),
    updatedAt: delivery.updatedAt.toISOString(),
    ...(delivery.attempts
      ? {
          attempts: delivery.attempts.map((attempt) => ({
            attemptNumber: attempt.attemptNumber,
            startedAt: attempt.startedAt.toISOString(),
            durationMs: attempt.durationMs,
            statusCode: attempt.statusCode,
            succeeded: attempt.succeeded,
            error: attempt.error,
            responseExcerpt: attempt.responseExcerpt,
          })),
        }
      : {}),
  };
}
