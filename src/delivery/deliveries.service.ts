import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource, EntityManager, FindOptionsWhere, LessThan, Repository } from 'typeorm';
import { notFound } from '../common/app-error';
import { newId } from '../common/ids';
import { DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { Settings } from '../config/settings';
import { DELIVERY_QUEUE, DeliveryJobData, DeliveryJobName } from '../queues/queue-names';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { DeliveryEntity, DeliveryStatus } from './delivery.entity';
import { AttemptOutcome } from './http-sender';

export interface DeliveryView {
  id: string;
  eventId: string;
  subscriptionId: string;
  status: DeliveryStatus;
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
  completedAt: string | null;
  createdAt: string;
  updatedAt: string;
  attempts?: AttemptView[];
}

export interface AttemptView {
  attemptNumber: number;
  startedAt: string;
  durationMs: number;
  statusCode: number | null;
  succeeded: boolean;
  error: string | null;
  responseExcerpt: string | null;
}

export interface DeliveryListQuery {
  status?: DeliveryStatus;
  subscriptionId?: string;
  eventId?: string;
  cursor?: string;
  limit?: number;
}

/** A delivery to send, with what signing and sending it needs. */
export interface DeliveryToSend {
  delivery: DeliveryEntity;
  subscription: SubscriptionEntity;
  body: string;
}

@Injectable()
export class DeliveriesService {
  constructor(
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(DELIVERY_QUEUE)
    private readonly queue: Queue<DeliveryJobData, void, DeliveryJobName>,
    private readonly settings: Settings,
  ) {}

  /** Persists one pending delivery per subscription; rows exist before any job is queued. */
  async createForEvent(
    manager: EntityManager,
    eventId: string,
    subscriptions: SubscriptionEntity[],
  ): Promise<DeliveryEntity[]> {
    if (subscriptions.length === 0) return [];
    const rows = subscriptions.map((subscription) =>
      manager.create(DeliveryEntity, {
        id: newId('dlv'),
        eventId,
        subscriptionId: subscription.id,
        subscription,
        status: 'pending',
      }),
    );
    await manager.insert(
      DeliveryEntity,
      rows.map(({ id, subscriptionId, status }) => ({ id, eventId, subscriptionId, status })),
    );
    return rows;
  }

  async pendingForEvent(eventId: string): Promise<DeliveryEntity[]> {
    return this.deliveries.find({
      where: { eventId, status: 'pending' },
      relations: { subscription: true },
    });
  }

  /** Queues one job per delivery; the job id is the delivery id, so queueing twice is harmless. */
  async enqueue(deliveries: DeliveryEntity[]): Promise<void> {
    if (deliveries.length === 0) return;
    await this.queue.addBulk(
      deliveries.map((delivery) => ({
        name: 'delivery.send' as const,
        data: { deliveryId: delivery.id },
        opts: {
          jobId: delivery.id,
          attempts: delivery.subscription?.maxAttempts ?? this.settings.DELIVERY_MAX_ATTEMPTS,
          backoff: { type: 'exponential', delay: this.settings.DELIVERY_BACKOFF_BASE_MS },
          removeOnComplete: { age: 3600, count: 10_000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      })),
    );
  }

  async loadForSending(deliveryId: string): Promise<DeliveryToSend | null> {
    const delivery = await this.deliveries
      .createQueryBuilder('delivery')
      .innerJoinAndSelect('delivery.subscription', 'subscription')
      .addSelect('subscription.secret')
      .innerJoin('delivery.event', 'event')
      .addSelect(['event.id', 'event.canonical'])
      .where('delivery.id = :deliveryId', { deliveryId })
      .getOne();
    if (!delivery?.subscription || !delivery.event?.canonical) return null;
    return {
      delivery,
      subscription: delivery.subscription,
      body: JSON.stringify(delivery.event.canonical),
    };
  }

  /** Records an attempt and the delivery's new state in one transaction. */
  async recordAttempt(
    delivery: DeliveryEntity,
    outcome: AttemptOutcome,
    startedAt: Date,
    isFinal: boolean,
  ): Promise<DeliveryStatus> {
    const status: DeliveryStatus = outcome.succeeded ? 'succeeded' : isFinal ? 'dead' : 'failed';
    await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOne(DeliveryEntity, {
        where: { id: delivery.id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!current) return;
      const attemptNumber = current.attemptCount + 1;
      await manager.update(
        DeliveryEntity,
        { id: delivery.id },
        {
          attemptCount: attemptNumber,
          status,
          lastStatusCode: outcome.statusCode,
          lastError: outcome.error,
          completedAt: status === 'succeeded' || status === 'dead' ? new Date() : null,
        },
      );
      await manager.insert(DeliveryAttemptEntity, {
        deliveryId: delivery.id,
        attemptNumber,
        startedAt,
        durationMs: outcome.durationMs,
        statusCode: outcome.statusCode,
        succeeded: outcome.succeeded,
        error: outcome.error,
        responseExcerpt: outcome.responseExcerpt,
      });
    });
    return status;
  }

  async get(id: string): Promise<DeliveryView> {
    const delivery = await this.deliveries.findOne({
      where: { id },
      relations: { attempts: true },
      order: { attempts: { attemptNumber: 'ASC' } },
    });
    if (!delivery) throw notFound(`Delivery ${id}`);
    return toDeliveryView(delivery);
  }

  async forEvent(eventId: string): Promise<DeliveryView[]> {
    const deliveries = await this.deliveries.find({ where: { eventId }, order: { id: 'ASC' } });
    return deliveries.map(toDeliveryView);
  }

  async list(query: DeliveryListQuery): Promise<Page<DeliveryView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const where: FindOptionsWhere<DeliveryEntity> = {};
    if (query.status) where.status = query.status;
    if (query.subscriptionId) where.subscriptionId = query.subscriptionId;
    if (query.eventId) where.eventId = query.eventId;
    if (query.cursor) where.id = LessThan(query.cursor);
    const rows = await this.deliveries.find({ where, order: { id: 'DESC' }, take: limit + 1 });
    return toPage(rows, limit, toDeliveryView);
  }
}

export function toDeliveryView(delivery: DeliveryEntity): DeliveryView {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    subscriptionId: delivery.subscriptionId,
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    completedAt: delivery.completedAt?.toISOString() ?? null,
    createdAt: delivery.createdAt.toISOString(),
    updatedAt: delivery.updatedAt.toISOString(),
    ...(delivery.attempts
      ? {
          attempts: delivery.attempts.map((attempt) => ({
            attemptNumber: attempt.attemptNumber,
            startedAt: attempt.startedAt.toISOString(),
            durationMs: attempt.durationMs,
            statusCode: attempt.statusCode,
            succeeded: attempt.succeeded,
            error: attempt.error,
            responseExcerpt: attempt.responseExcerpt,
          })),
        }
      : {}),
  };
}
