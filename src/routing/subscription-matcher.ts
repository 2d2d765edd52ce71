import { Injectable, Logger } from '@nestjs/common';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { Snapshot, SubscriptionSnapshot } from '../subscriptions/subscription-snapshot';
import { compileContentFilter } from '../policies/content-filter';
import { SubscriptionIndex } from './subscription-index';

export interface RoutableEvent {
  type: string;
  sourceId: string;
}

/**
 * A subscription that wants the event: its id, what a delivery is made for, and whether its
 * deliveries go one at a time per conversation.
 */
export type MatchedSubscription = Pick<SubscriptionEntity, 'id'> & { ordered: boolean };

/**
 * Which enabled subscriptions want an event, from an index built over the subscriptions'
 * snapshot, and built again when the snapshot is replaced (a change in any process).
 */
@Injectable()
export class SubscriptionMatcher {
  private readonly logger = new Logger(SubscriptionMatcher.name);
  private indexed: { snapshot: Snapshot; index: SubscriptionIndex<MatchedSubscription> } | null =
    null;

  constructor(private readonly snapshots: SubscriptionSnapshot) {}

  async match(event: RoutableEvent, canonical?: unknown): Promise<MatchedSubscription[]> {
    const snapshot = await this.snapshots.current();
    return this.indexOf(snapshot).match(event, canonical);
  }

  private indexOf(snapshot: Snapshot): SubscriptionIndex<MatchedSubscription> {
    if (this.indexed?.snapshot === snapshot) return this.indexed.index;
    const started = performance.now();
    const index = new SubscriptionIndex(
      snapshot.enabled.map((subscription) => ({
        id: subscription.id,
        eventTypes: subscription.eventTypes,
        sourceIds: subscription.sourceIds,
        matchesContent: subscription.filter ? this.compileFilter(subscription) : undefined,
        value: { id: subscription.id, ordered: subscription.ordering === 'conversation' },
      })),
    );
    this.indexed = { snapshot, index };
    this.logger.debug(
      `indexed ${index.size} subscriptions (version ${snapshot.version}) in ${Math.round(performance.now() - started)} ms`,
    );
    return index;
  }

  /** Filters are validated on write; one that still fails to compile matches nothing, not everything. */
  private compileFilter(subscription: SubscriptionEntity): (event: unknown) => boolean {
    try {
      return compileContentFilter(subscription.filter!);
    } catch (error) {
      this.logger.error(`subscription ${subscription.id} has an unusable filter: ${String(error)}`);
      return () => false;
    }
  }
}
