import { Injectable } from '@nestjs/common';
import { ulid } from 'ulid';
import { CANONICAL_EVENT_TYPES } from '../canonical/canonical-event';
import { buildSampleEvent } from '../canonical/sample-event';
import { notFound } from '../common/app-error';
import { eventTypeMatches } from '../policies/event-type-pattern';
import { SubscriptionSnapshot } from '../subscriptions/subscription-snapshot';
import { TestSubscriptionDto } from './dto/test-send.request';
import { TestSendResult } from './dto/test-send.response';
import { WebhookDispatcher } from './webhook-dispatcher';

/** `POST /api/subscriptions/:id/test`: an attempt with a sample event, nothing stored. */
@Injectable()
export class TestSend {
  constructor(
    private readonly snapshot: SubscriptionSnapshot,
    private readonly dispatcher: WebhookDispatcher,
  ) {}

  /** Sends a sample event through the subscription's format, transform and signing now. */
  async send(subscriptionId: string, dto: TestSubscriptionDto): Promise<TestSendResult> {
    const subscription = await this.snapshot.withSecrets(subscriptionId);
    if (!subscription) throw notFound(`Subscription ${subscriptionId}`);
    const type = dto.eventType ?? sampleTypeFor(subscription.eventTypes);
    const eventId = `evt_test_${ulid()}`;
    const sample = buildSampleEvent(eventId, type);
    const startedAt = new Date();
    const outcome = await this.dispatcher.dispatch(
      {
        subscription,
        messageId: eventId,
        canonicalJson: JSON.stringify(sample.canonical),
        rawBody: sample.rawBody,
      },
      startedAt,
    );
    return {
      eventId,
      eventType: type,
      startedAt: startedAt.toISOString(),
      succeeded: outcome.succeeded,
      statusCode: outcome.statusCode,
      durationMs: outcome.durationMs,
      error: outcome.error,
      responseExcerpt: outcome.responseExcerpt,
    };
  }
}

/** The first canonical type the subscription's patterns accept. */
function sampleTypeFor(patterns: string[]): string {
  return (
    CANONICAL_EVENT_TYPES.find((type) =>
      patterns.some((pattern) => eventTypeMatches(pattern, type)),
    ) ?? 'message.created'
  );
}
