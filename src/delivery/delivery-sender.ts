import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Logger as PinoLogger } from 'pino';
import { LINE_LOGGER } from '../common/logging';
import { Settings } from '../config/settings';
import { MetricsService } from '../monitoring/metrics.service';
import { resolveRetryPolicy } from '../policies/retry-policy';
import { SharedRedis } from '../queues/shared-redis';
import { DeliveryAttempts, DeliveryToSend } from './delivery-attempts';
import { IngestWatermark } from './ingest-watermark';
import { attemptInRun, beforeAttempt, NextStep, nextStep } from './next-step';
import { OrderedLanes } from './ordered-lanes';
import { SubscriptionRateLimiter } from './rate-limiter';
import { WebhookDispatcher } from './webhook-dispatcher';

const DONE: NextStep = { kind: 'done' };
/**
 * How long an ordered head waits for earlier webhooks to be stored while keeping its worker slot;
 * longer (an ingest backlog) and its job waits in the delayed set.
 */
const HEAD_WAITS_IN_SLOT_MS = 200;
/** The attempt log line keeps the name it had when the processor made every attempt. */
const LOG_CONTEXT = 'DeliveryProcessor';

/**
 * Makes one delivery's attempt, whoever asks: the delivery processor (fan-out and retry jobs) or
 * the ingest job making an event's first attempts from what it holds in memory. Decides whether
 * to attempt (stale run, disabled subscription, ordered head not yet free, rate limit), sends,
 * records the attempt, and answers what comes next; the caller queues it.
 */
@Injectable()
export class DeliverySender {
  private readonly logger = new Logger(LOG_CONTEXT);
  private readonly rateLimiter: SubscriptionRateLimiter;

  constructor(
    private readonly attempts: DeliveryAttempts,
    private readonly dispatcher: WebhookDispatcher,
    private readonly settings: Settings,
    private readonly metrics: MetricsService,
    private readonly lanes: OrderedLanes,
    private readonly ingest: IngestWatermark,
    redis: SharedRedis,
    @Inject(LINE_LOGGER) private readonly lines: PinoLogger,
  ) {
    this.rateLimiter = new SubscriptionRateLimiter(redis.client, settings.QUEUE_PREFIX);
  }

  /**
   * Loads the delivery and makes its attempt. `resuming`: from a fan-out job, where a delivery
   * already failed once only needs its retry job (it may not have been queued before a crash).
   * `headFree`: an ordered head loaded after a reading let it go (see sendLoaded).
   */
  async send(
    deliveryId: string,
    run: number,
    resuming: boolean,
    headFree = false,
  ): Promise<NextStep> {
    const target = await this.attempts.loadForSending(deliveryId);
    if (!target) return DONE;
    return this.sendLoaded(target, run, resuming, headFree);
  }

  /** Makes the attempt of a delivery already loaded (or, new, known from memory). */
  async sendLoaded(
    target: DeliveryToSend,
    run: number,
    resuming: boolean,
    headFree = false,
  ): Promise<NextStep> {
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
        if (delivery.laneAt && !headFree) {
          // An earlier webhook may still be on its way to Postgres: wait for it here a little
          // (it is usually being stored right now), then elsewhere; no attempt spent.
          const verdict = await this.ingest.waitFor(
            { laneAt: delivery.laneAt.getTime(), eventId: delivery.eventId },
            HEAD_WAITS_IN_SLOT_MS,
          );
          if (!verdict.go) return { kind: 'wait', delayMs: verdict.delayMs };
          // The load must show every webhook the verdict found stored. Known after the load was
          // sent (it waited, a reading was on its way, an earlier webhook was stored here since),
          // or for a head known from memory, an earlier webhook of its conversation may have been
          // stored in between: loaded again, the head steps back if it was overtaken.
          if (target.loadSentAt === null || verdict.knownAt >= target.loadSentAt) {
            return this.send(delivery.id, run, resuming, true);
          }
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
    const { delivery, subscription, canonicalJson, canonicalBytes, rawBody } = target;
    const startedAt = new Date();
    const outcome = await this.dispatcher.dispatch(
      { subscription, messageId: delivery.eventId, canonicalJson, canonicalBytes, rawBody },
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
        context: LOG_CONTEXT,
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
