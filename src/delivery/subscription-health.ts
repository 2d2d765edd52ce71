import { Injectable } from '@nestjs/common';
import { Settings } from '../config/settings';
import { SubscriptionSnapshot } from '../subscriptions/subscription-snapshot';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { DeliveryStatus } from './delivery.entity';
import { AttemptOutcome } from '../outbound/http-sender';

/**
 * What a delivery's end says about its subscription: 410 Gone disables it at once; a run of
 * dead deliveries (its own threshold, else SUBSCRIPTION_DISABLE_AFTER_DEAD; 0: never) too.
 * A success resets the run, in the statement that records it.
 */
@Injectable()
export class SubscriptionHealth {
  constructor(
    private readonly subscriptions: SubscriptionsRepository,
    private readonly snapshot: SubscriptionSnapshot,
    private readonly settings: Settings,
  ) {}

  /**
   * The reason the subscription was disabled for, or null when it was not (or was already).
   * A disable is committed, then told to every process.
   */
  async judge(
    subscriptionId: string,
    ended: { status: DeliveryStatus; outcome: AttemptOutcome },
  ): Promise<string | null> {
    const disabledReason = await this.disableReason(subscriptionId, ended);
    if (disabledReason) await this.snapshot.invalidate();
    return disabledReason;
  }

  private async disableReason(
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
