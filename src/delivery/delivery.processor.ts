import { Processor, WorkerHost } from '@nestjs/bullmq';
import { OnApplicationBootstrap } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { Settings } from '../config/settings';
import { DELIVERY_QUEUE, DeliveryJobData, DeliveryJobName } from '../queues/queue-names';
import { DeliveriesService, DeliveryToSend } from './deliveries.service';
import { AttemptOutcome, HttpSender } from './http-sender';
import { checkTarget } from './target-guard';
import { signWebhook } from './webhook-signer';

/** A failed attempt that another attempt may fix: thrown so BullMQ's backoff applies. */
export class RetryableDeliveryError extends Error {}

@Processor(DELIVERY_QUEUE)
export class DeliveryProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly deliveries: DeliveriesService,
    private readonly sender: HttpSender,
    private readonly settings: Settings,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.settings.DELIVERY_CONCURRENCY;
  }

  async process(job: Job<DeliveryJobData, void, DeliveryJobName>): Promise<void> {
    switch (job.name) {
      case 'delivery.send':
        return this.send(job);
      default: {
        const unknown: never = job.name;
        throw new UnrecoverableError(`unknown delivery job ${String(unknown)}`);
      }
    }
  }

  private async send(job: Job<DeliveryJobData, void, DeliveryJobName>): Promise<void> {
    const target = await this.deliveries.loadForSending(job.data.deliveryId);
    // The subscription or event was deleted since, or a duplicate job found it done.
    if (!target || target.delivery.status === 'succeeded' || target.delivery.status === 'dead') {
      return;
    }
    const startedAt = new Date();
    const outcome = await this.attempt(target);
    const isLastAllowed = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const status = await this.deliveries.recordAttempt(
      target.delivery,
      outcome,
      startedAt,
      !outcome.retryable || isLastAllowed,
    );
    if (status === 'succeeded') return;
    if (!outcome.retryable) throw new UnrecoverableError(outcome.error ?? 'delivery refused');
    throw new RetryableDeliveryError(outcome.error ?? 'delivery failed');
  }

  private async attempt({ subscription, delivery, body }: DeliveryToSend): Promise<AttemptOutcome> {
    const guard = await checkTarget(subscription.url, this.settings.ALLOW_PRIVATE_TARGETS);
    if (!guard.ok) {
      return {
        succeeded: false,
        statusCode: null,
        durationMs: 0,
        error: `target refused: ${guard.reason}`,
        responseExcerpt: null,
        retryable: false,
      };
    }
    return this.sender.send({
      url: subscription.url,
      body,
      headers: {
        ...subscription.headers,
        ...signWebhook([subscription.secret], delivery.eventId, body),
      },
      timeoutMs: subscription.timeoutMs ?? this.settings.DELIVERY_TIMEOUT_MS,
    });
  }
}
