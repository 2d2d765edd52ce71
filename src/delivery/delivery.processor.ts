import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import type { Logger as PinoLogger } from 'pino';
import { LINE_LOGGER } from '../common/logging';
import { Settings } from '../config/settings';
import { MetricsService } from '../monitoring/metrics.service';
import {
  DELIVERY_QUEUE,
  DeliveryJob,
  DeliveryJobData,
  DeliveryJobName,
  FanOutJobData,
} from '../queues/queue-names';
import { SharedRedis } from '../queues/shared-redis';
import { DeliveryAttempts, DeliveryToSend } from './delivery-attempts';
import { DeliveryProducer } from './delivery-producer';
import { attemptInRun, beforeAttempt, NextStep, nextStep } from './next-step';
import { IngestWatermark } from './ingest-watermark';
import { OrderedLanes } from './ordered-lanes';
import { SubscriptionRateLimiter } from './rate-limiter';
import { resolveRetryPolicy } from '../policies/retry-policy';
import { WebhookDispatcher } from './webhook-dispatcher';

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

const DONE: NextStep = { kind: 'done' };
/**
 * How long an ordered head waits for earlier webhooks to be stored while keeping its worker slot;
 * longer (an ingest backlog) and its job waits in the delayed set.
 */
const HEAD_WAITS_IN_SLOT_MS = 200;

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
  private readonly logger = new Logger(DeliveryProcessor.name);
  private readonly rateLimiter: SubscriptionRateLimiter;

  constructor(
    private readonly attempts: DeliveryAttempts,
    private readonly producer: DeliveryProducer,
    private readonly dispatcher: WebhookDispatcher,
    private readonly settings: Settings,
    private readonly metrics: MetricsService,
    private readonly lanes: OrderedLanes,
    private readonly ingest: IngestWatermark,
    redis: SharedRedis,
    @Inject(LINE_LOGGER) private readonly lines: PinoLogger,
  ) {
    super();
    this.rateLimiter = new SubscriptionRateLimiter(redis.client, settings.QUEUE_PREFIX);
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.settings.DELIVERY_CONCURRENCY;
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
    const next = await this.sendOne(data.deliveryId, data.run ?? 0, false);
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
        const next = await this.sendOne(deliveryId, run, true);
        if (next.kind === 'wait' || next.kind === 'retry') {
          await this.producer.enqueue([{ id: deliveryId, run }], next.delayMs);
        }
      }),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  /**
   * Decides and makes one attempt. `resuming`: from a fan-out job, where a delivery already
   * failed once only needs its retry job (it may not have been queued before a crash).
   */
  private async sendOne(deliveryId: string, run: number, resuming: boolean): Promise<NextStep> {
    const target = await this.attempts.loadForSending(deliveryId);
    if (!target) return DONE;
    const { delivery, subscription } = target;
    const before = beforeAttempt({
      delivery,
      jobRun: run,
      resuming,
      subscription,
      now: new Date(),
    });
    switch (before.kind) {
      case 'done':
      case 'wait':
        return before;
      case 'abandon':
      case 'attempt':
        if (delivery.laneKey && target.overtaken) {
          // An earlier webhook of its conversation was stored after this one became head.
          await this.lanes.stepBack({ ...delivery, laneKey: delivery.laneKey });
          return DONE;
        }
        if (delivery.laneAt) {
          // An earlier webhook may still be on its way to Postgres: wait for it here a little
          // (it is usually being stored right now), then elsewhere; no attempt spent.
          const verdict = await this.ingest.waitFor(
            { laneAt: delivery.laneAt.getTime(), eventId: delivery.eventId },
            HEAD_WAITS_IN_SLOT_MS,
          );
          if (!verdict.go) return { kind: 'wait', delayMs: verdict.delayMs };
          // An earlier webhook of its conversation may have been stored while it waited: loaded
          // again, the head steps back if it was overtaken (the reading now lets it go at once).
          if (verdict.waited) return this.sendOne(deliveryId, run, resuming);
        }
        break;
    }
    if (before.kind === 'abandon') {
      const blocking = delivery.laneKey !== null && subscription.onDead === 'block';
      await this.attempts.abandon(delivery, before.reason, blocking ? 'blocked' : 'dead');
      if (delivery.laneKey && !blocking) {
        await this.lanes.afterHead({ ...delivery, laneKey: delivery.laneKey }, 'dead');
      }
      return DONE;
    }
    if (subscription.rateLimitMax && subscription.rateLimitPerSeconds) {
      const slot = await this.rateLimiter.acquire(subscription.id, {
        max: subscription.rateLimitMax,
        perSeconds: subscription.rateLimitPerSeconds,
      });
      if (!slot.allowed) {
        return nextStep({
          ...this.policyFor(target),
          result: { kind: 'rate-limited', retryInMs: slot.retryInMs },
        });
      }
    }
    return this.attempt(target);
  }

  private async attempt(target: DeliveryToSend): Promise<NextStep> {
    const { delivery, subscription, canonicalJson, rawBody } = target;
    const startedAt = new Date();
    const outcome = await this.dispatcher.dispatch(
      { subscription, messageId: delivery.eventId, canonicalJson, rawBody },
      startedAt,
    );
    const next = nextStep({ ...this.policyFor(target), result: { kind: 'sent', outcome } });
    const laneKey = delivery.laneKey;
    const recorded = await this.attempts.recordAttempt(
      delivery,
      outcome,
      startedAt,
      next,
      laneKey !== null && subscription.onDead === 'block',
    );
    // The head of a conversation is through: the next one goes. Were the outcome recorded and this
    // process killed before, the ordering sweep releases the conversation.
    if (laneKey && (recorded.status === 'succeeded' || recorded.status === 'dead')) {
      await this.lanes.afterHead({ ...delivery, laneKey }, recorded.status);
    }
    this.metrics.deliveryAttempted(recorded.status, outcome.durationMs);
    this.lines[recorded.status === 'dead' ? 'warn' : 'info'](
      {
        context: DeliveryProcessor.name,
        eventId: delivery.eventId,
        deliveryId: delivery.id,
        subscriptionId: subscription.id,
        attemptInRun: attemptInRun(delivery),
        statusCode: outcome.statusCode,
        durationMs: outcome.durationMs,
        outcome: recorded.status,
        nextAttemptAt: next.kind === 'retry' ? next.nextAttemptAt.toISOString() : null,
      },
      'delivery attempt',
    );
    if (recorded.disabledReason) {
      this.logger.warn(`subscription ${subscription.id}: ${recorded.disabledReason}`);
    }
    return next;
  }

  /** What the next-step decision needs besides the attempt's result. */
  private policyFor({ delivery, subscription }: DeliveryToSend) {
    return {
      delivery,
      policy: resolveRetryPolicy(subscription, this.settings.DELIVERY_RETRY_SCHEDULE),
      retry: {
        jitter: this.settings.DELIVERY_RETRY_JITTER,
        retryAfterMaxMs: this.settings.DELIVERY_RETRY_AFTER_MAX_SECONDS * 1000,
      },
      now: new Date(),
    };
  }
}
