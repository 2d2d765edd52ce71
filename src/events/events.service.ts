import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { nestsDeeperThan } from '../canonical/depth-bound';
import { AppError, notFound } from '../common/app-error';
import { DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { parseRaw } from '../common/raw-body';
import { DeliveriesService } from '../delivery/deliveries.service';
import { DeliveryProducer } from '../delivery/delivery-producer';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { DeliveryView } from '../delivery/dto/delivery.response';
import { SubscriptionMatcher } from '../routing/subscription-matcher';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { EventDetail, EventSummary } from './dto/event.response';
import { EventEntity } from './event.entity';
import { EventRowQuery, EventsRepository } from './events.repository';

/** Deeper than this, GET /api/events/:id answers `raw` as the text received. */
export const RAW_MAX_DEPTH_AS_JSON = 1000;

export type EventListQuery = Omit<EventRowQuery, 'take'> & { limit?: number };

@Injectable()
export class EventsService {
  constructor(
    private readonly events: EventsRepository,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly matcher: SubscriptionMatcher,
    private readonly deliveries: DeliveriesService,
    private readonly producer: DeliveryProducer,
    private readonly subscriptions: SubscriptionsRepository,
  ) {}

  async get(id: string): Promise<EventDetail> {
    const event = await this.events.findById(id);
    if (!event) throw notFound(`Event ${id}`);
    return {
      ...toEventSummary(event),
      event: event.canonical,
      raw: readableRaw(event.rawBody),
      deliveries: await this.deliveries.forEvent(id),
    };
  }

  /**
   * Delivers a stored event again: to the subscriptions named, or to every enabled one that
   * matches it now. New deliveries, with the same `webhook-id` (the event id) receivers dedupe on.
   */
  async replay(id: string, subscriptionIds?: string[]): Promise<DeliveryView[]> {
    const event = await this.events.findById(id);
    if (!event) throw notFound(`Event ${id}`);
    if (!event.canonical || !event.type) {
      throw new AppError(
        'conflict',
        `Event ${id} could not be normalized (${event.error}); it has nothing to deliver`,
      );
    }
    const targets = subscriptionIds
      ? await this.chosenSubscriptions([...new Set(subscriptionIds)])
      : await this.matcher.match({ type: event.type, sourceId: event.sourceId }, event.canonical);
    const created = await this.dataSource.transaction((manager) =>
      this.producer.createForEvent(manager, id, targets),
    );
    await this.producer.enqueueFirstAttempts(id, created);
    const createdIds = new Set(created.map((delivery) => delivery.id));
    return (await this.deliveries.forEvent(id)).filter((delivery) => createdIds.has(delivery.id));
  }

  private async chosenSubscriptions(ids: string[]): Promise<SubscriptionEntity[]> {
    const found = await this.subscriptions.findByIds(ids);
    const byId = new Map(found.map((subscription) => [subscription.id, subscription]));
    const problems = ids.flatMap((subscriptionId) => {
      const subscription = byId.get(subscriptionId);
      if (!subscription) return [`subscription ${subscriptionId} does not exist`];
      if (!subscription.enabled) return [`subscription ${subscriptionId} is disabled`];
      return [];
    });
    if (problems.length > 0) {
      throw new AppError('validation_failed', problems.join('; '), [
        { field: 'subscriptionIds', problems },
      ]);
    }
    return ids.map((subscriptionId) => byId.get(subscriptionId)!);
  }

  async list({ limit = DEFAULT_PAGE_SIZE, ...query }: EventListQuery): Promise<Page<EventSummary>> {
    return toPage(await this.events.list({ ...query, take: limit + 1 }), limit, toEventSummary);
  }
}

/**
 * The raw payload as JSON, or as the text received when it is not JSON or nests deeper than
 * RAW_MAX_DEPTH_AS_JSON: serialising such a value again would overflow the stack.
 */
function readableRaw(rawBody: string): unknown {
  const parsed = parseRaw(rawBody);
  return nestsDeeperThan(parsed, RAW_MAX_DEPTH_AS_JSON) ? rawBody : parsed;
}

function toEventSummary(event: EventEntity): EventSummary {
  return {
    id: event.id,
    type: event.type,
    status: event.status,
    error: event.error,
    sourceId: event.sourceId,
    sourceKind: event.sourceKind,
    sourceEvent: event.sourceEvent,
    conversationKey: event.conversationKey,
    conversationId: event.conversationId,
    occurredAt: event.occurredAt.toISOString(),
    receivedAt: event.receivedAt.toISOString(),
  };
}
