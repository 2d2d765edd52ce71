import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, FindOptionsWhere, In, LessThan, MoreThanOrEqual, Repository } from 'typeorm';
import { nestsDeeperThan } from '../canonical/depth-bound';
import { AppError, notFound } from '../common/app-error';
import { newId } from '../common/ids';
import { DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { DeliveriesService } from '../delivery/deliveries.service';
import { DeliveryProducer } from '../delivery/delivery-producer';
import { DeliveryView } from '../delivery/dto/delivery.response';
import { MetricsService } from '../monitoring/metrics.service';
import { IngestJobData } from '../queues/queue-names';
import { SubscriptionMatcher } from '../routing/subscription-matcher';
import { SourceRegistry } from '../sources/source-registry';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { EventDetail, EventSummary } from './dto/event.response';
import { BatchedEventStore } from './batched-event-store';
import { canonicalOf, parseRaw } from './canonical-of';
import { EventEntity } from './event.entity';

/** Deeper than this, GET /api/events/:id answers `raw` as the text received. */
export const RAW_MAX_DEPTH_AS_JSON = 1000;

export interface EventListQuery {
  type?: string;
  sourceId?: string;
  conversationKey?: string;
  status?: string;
  since?: Date;
  until?: Date;
  cursor?: string;
  limit?: number;
}

@Injectable()
export class EventsService {
  constructor(
    @InjectRepository(EventEntity) private readonly events: Repository<EventEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly registry: SourceRegistry,
    private readonly matcher: SubscriptionMatcher,
    private readonly deliveries: DeliveriesService,
    private readonly producer: DeliveryProducer,
    private readonly metrics: MetricsService,
    private readonly store: BatchedEventStore,
  ) {}

  /**
   * The worker's half of ingest: normalize, store the event beside its raw bytes, create one
   * delivery per matching subscription, queue them. Safe to run twice for the same job.
   */
  async storeAndRoute(job: IngestJobData): Promise<void> {
    const outcome = canonicalOf(job, this.registry);
    const canonical = outcome.status === 'ok' ? outcome.event : null;

    // Matched before the transaction: loading the matcher's index takes a pool connection of its
    // own, which INGEST_CONCURRENCY transactions each holding one would wait for forever.
    const subscriptions = canonical
      ? await this.matcher.match({ type: canonical.type, sourceId: job.sourceId }, canonical)
      : [];
    const deliveries = subscriptions.map((subscription) => ({
      id: newId('dlv'),
      run: 0,
      subscriptionId: subscription.id,
    }));
    const stored = await this.store.insert({
      id: job.eventId,
      sourceId: job.sourceId,
      sourceKind: job.sourceKind,
      sourceEvent: indexable(canonical?.source.event),
      sourceDeliveryId: indexable(job.sourceDeliveryId),
      type: canonical?.type ?? null,
      status: canonical ? 'routed' : 'unprocessable',
      error: indexable(outcome.status === 'unprocessable' ? outcome.reason : null),
      conversationKey: indexable(canonical?.conversation?.key),
      occurredAt: canonical?.occurredAt ?? job.receivedAt,
      receivedAt: job.receivedAt,
      rawBody: job.rawBody,
      canonical: outcome.status === 'ok' ? outcome.json : null,
      deliveries,
    });
    if (stored) this.metrics.eventStored(job.sourceKind, canonical?.type ?? null);
    // Not stored: a retried job (or a replayed signed webhook) whose statement had committed;
    // queue what no job holds.
    await this.producer.enqueueFirstAttempts(
      job.eventId,
      stored ? deliveries : await this.producer.strandedOfEvent(job.eventId),
    );
  }

  async get(id: string): Promise<EventDetail> {
    const event = await this.events.findOneBy({ id });
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
    const event = await this.events.findOneBy({ id });
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
    const found = await this.dataSource.getRepository(SubscriptionEntity).findBy({ id: In(ids) });
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

  async list(query: EventListQuery): Promise<Page<EventSummary>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const where: FindOptionsWhere<EventEntity> = {};
    if (query.type) where.type = query.type;
    if (query.sourceId) where.sourceId = query.sourceId;
    if (query.conversationKey) where.conversationKey = query.conversationKey;
    if (query.status) where.status = query.status as EventEntity['status'];
    if (query.cursor) where.id = LessThan(query.cursor);
    const builder = this.events
      .createQueryBuilder('event')
      .select([
        'event.id',
        'event.type',
        'event.status',
        'event.error',
        'event.sourceId',
        'event.sourceKind',
        'event.sourceEvent',
        'event.conversationKey',
        'event.occurredAt',
        'event.receivedAt',
      ])
      .where(where)
      .orderBy('event.id', 'DESC')
      .take(limit + 1);
    if (query.since) builder.andWhere({ receivedAt: MoreThanOrEqual(query.since) });
    if (query.until) builder.andWhere('event.received_at < :until', { until: query.until });
    return toPage(await builder.getMany(), limit, toEventSummary);
  }
}

/**
 * Postgres text cannot hold NUL, which a JSON string may carry as \u0000: the lookup columns
 * drop it (the canonical JSON and raw body keep the value verbatim), or the insert would fail
 * on every retry and the event would never be stored.
 */
function indexable(value: string | null | undefined): string | null {
  return value == null ? null : value.replaceAll(String.fromCharCode(0), '');
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
    occurredAt: event.occurredAt.toISOString(),
    receivedAt: event.receivedAt.toISOString(),
  };
}
