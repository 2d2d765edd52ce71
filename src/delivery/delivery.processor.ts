import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError } from 'bullmq';
import { Settings } from '../config/settings';
import { MetricsService } from '../monitoring/metrics.service';
import { DELIVERY_QUEUE, DeliveryJobData, DeliveryJobName } from '../queues/queue-names';
import { SharedRedis } from '../queues/shared-redis';
import { SubscriptionMatcher } from '../routing/subscription-matcher';
import { DeliveriesService, DeliveryToSend } from './deliveries.service';
import { SubscriptionRateLimiter } from './rate-limiter';
import { resolveRetryPolicy, retryDelayMs } from './retry-policy';
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
    private readonly deliveries: DeliveriesService,
    private readonly dispatcher: WebhookDispatcher,
    private readonly matcher: SubscriptionMatcher,
    private readonly settings: Settings,
    private readonly metrics: MetricsService,
    redis: SharedRedis,
  ) {
    super();
    this.rateLimiter = new SubscriptionRateLimiter(redis.client, settings.QUEUE_PREFIX);
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.settings.DELIVERY_CONCURRENCY;
  }

  async process(job: Job<DeliveryJobData, void, DeliveryJobName>, token?: string): Promise<void> {
    switch (job.name) {
      case 'delivery.send':
        return this.send(job, token);
      default: {
        const unknown: never = job.name;
        throw new UnrecoverableError(`unknown delivery job ${String(unknown)}`);
      }
    }
  }

  private async send(job: Job<DeliveryJobData, void, DeliveryJobName>, token?: string) {
    const target = await this.deliveries.loadForSending(job.data.deliveryId);
    // Deleted since, re-driven as a newer run, or already finished by a duplicate job.
    if (!target || target.delivery.run !== (job.data.run ?? 0)) return;
    const { delivery, subscription } = target;
    if (delivery.status === 'succeeded' || delivery.status === 'dead') return;
    if (!subscription.enabled) {
      await this.deliveries.abandon(
        delivery,
        `subscription disabled${subscription.disabledReason ? `: ${subscription.disabledReason}` : ''}; retry once it is enabled again`,
      );
      return;
    }
    if (subscription.rateLimitMax && subscription.rateLimitPerSeconds) {
      const slot = await this.rateLimiter.acquire(subscription.id, {
        max: subscription.rateLimitMax,
        perSeconds: subscription.rateLimitPerSeconds,
      });
      if (!slot.allowed) {
        // Waits outside the worker's slots and costs no attempt; other subscriptions go on.
        await job.moveToDelayed(Date.now() + slot.retryInMs, token);
        throw new DelayedError();
      }
    }
    await this.attempt(target);
  }

  private async attempt({ delivery, subscription, canonicalJson, rawBody }: DeliveryToSend) {
    const startedAt = new Date();
    const outcome = await this.dispatcher.dispatch(
      { subscription, messageId: delivery.eventId, canonicalJson, rawBody },
      startedAt,
    );
    const policy = resolveRetryPolicy(subscription, this.settings.DELIVERY_RETRY_SCHEDULE);
    const attemptInRun = delivery.attemptCount - delivery.runAttemptBase + 1;
    const final = !outcome.retryable || attemptInRun >= policy.maxAttempts;
    const delayMs = retryDelayMs(policy, attemptInRun, {
      jitter: this.settings.DELIVERY_RETRY_JITTER,
      retryAfterMs: outcome.retryAfterMs,
      retryAfterMaxMs: this.settings.DELIVERY_RETRY_AFTER_MAX_SECONDS * 1000,
    });
    const recorded = await this.deliveries.recordAttempt(delivery, outcome, startedAt, {
      final,
      nextAttemptAt: final ? null : new Date(Date.now() + delayMs),
    });
    this.metrics.deliveryAttempted(recorded.status, outcome.durationMs);
    this.logger[recorded.status === 'dead' ? 'warn' : 'log']({
      msg: 'delivery attempt',
      eventId: delivery.eventId,
      deliveryId: delivery.id,
      subscriptionId: subscription.id,
      attemptInRun,
      statusCode: outcome.statusCode,
      durationMs: outcome.durationMs,
      outcome: recorded.status,
      nextAttemptAt: final ? null : new Date(Date.now() + delayMs).toISOString(),
    });
    if (recorded.disabledReason) {
      this.logger.warn(`subscription ${subscription.id}: ${recorded.disabledReason}`);
      await this.matcher.invalidate();
    }
    if (outcome.succeeded) return;
    if (final) throw new UnrecoverableError(outcome.error ?? 'delivery failed');
    throw new RetryableDeliveryError(outcome.error ?? 'delivery failed', delayMs);
  }
}
