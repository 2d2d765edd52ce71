import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { eventTypeMatches } from './event-type-pattern';

export interface RoutableEvent {
  type: string;
  sourceId: string;
}

/** Which enabled subscriptions want an event: its type matches a pattern and its source is allowed. */
export function subscriptionWants(subscription: SubscriptionEntity, event: RoutableEvent): boolean {
  if (!subscription.enabled) return false;
  if (subscription.sourceIds && !subscription.sourceIds.includes(event.sourceId)) return false;
  return subscription.eventTypes.some((pattern) => eventTypeMatches(pattern, event.type));
}

@Injectable()
export class SubscriptionMatcher {
  constructor(
    @InjectRepository(SubscriptionEntity)
    private readonly subscriptions: Repository<SubscriptionEntity>,
  ) {}

  async match(event: RoutableEvent): Promise<SubscriptionEntity[]> {
    const candidates = await this.subscriptions.find({ where: { enabled: true } });
    return candidates.filter((subscription) => subscriptionWants(subscription, event));
  }
}
