import { Injectable } from '@nestjs/common';
import { DeliveriesRepository } from '../delivery/deliveries.repository';
import { DELIVERY_STATUSES } from '../delivery/delivery.entity';
import { EventsRepository } from '../events/events.repository';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { ActivityOverview, OverviewWindow } from './overview.response';

/** Each window, cut into buckets: an hour in twelve 5-minute ones, a day in 24 hours. */
const WINDOWS: Record<OverviewWindow, { seconds: number; bucketSeconds: number }> = {
  hour: { seconds: 3600, bucketSeconds: 300 },
  day: { seconds: 86_400, bucketSeconds: 3600 },
};
const SUBSCRIPTIONS_LISTED = 20;

/** `GET /api/overview`: what came in and what went out over the last hour or day. */
@Injectable()
export class OverviewService {
  constructor(
    private readonly events: EventsRepository,
    private readonly deliveries: DeliveriesRepository,
    private readonly subscriptions: SubscriptionsRepository,
  ) {}

  async overview(window: OverviewWindow, now = new Date()): Promise<ActivityOverview> {
    const { seconds, bucketSeconds } = WINDOWS[window];
    const bucketMs = bucketSeconds * 1000;
    // Whole buckets, the current one last: the first starts a window before the current one ends.
    const end = Math.floor(now.getTime() / bucketMs) * bucketMs + bucketMs;
    const since = new Date(end - seconds * 1000);
    const [eventCounts, deliveryCounts, failing, disabled] = await Promise.all([
      this.events.countsPerBucket(since, bucketSeconds),
      this.deliveries.countsPerBucket(since, bucketSeconds),
      this.deliveries.failingSubscriptions(since, SUBSCRIPTIONS_LISTED),
      this.subscriptions.disabled(SUBSCRIPTIONS_LISTED),
    ]);
    const starts = Array.from(
      { length: seconds / bucketSeconds },
      (_, i) => since.getTime() + i * bucketMs,
    );
    const eventBuckets = starts.map((start) => ({
      at: new Date(start).toISOString(),
      routed: 0,
      unprocessable: 0,
    }));
    for (const { bucket, status, count } of eventCounts) {
      const slot = eventBuckets[(bucket.getTime() - since.getTime()) / bucketMs];
      if (slot && (status === 'routed' || status === 'unprocessable')) slot[status] += count;
    }
    const deliveryBuckets = starts.map((start) => ({
      at: new Date(start).toISOString(),
      ...Object.fromEntries(DELIVERY_STATUSES.map((status) => [status, 0])),
    })) as ActivityOverview['deliveries'];
    for (const { bucket, status, count } of deliveryCounts) {
      const slot = deliveryBuckets[(bucket.getTime() - since.getTime()) / bucketMs];
      if (slot) slot[status] += count;
    }
    return {
      window,
      since: since.toISOString(),
      until: new Date(end).toISOString(),
      bucketSeconds,
      events: eventBuckets,
      deliveries: deliveryBuckets,
      failingSubscriptions: failing,
      disabledSubscriptions: disabled.map((subscription) => ({
        id: subscription.id,
        name: subscription.name,
        disabledReason: subscription.disabledReason,
        disabledAt: subscription.disabledAt?.toISOString() ?? null,
      })),
    };
  }
}
