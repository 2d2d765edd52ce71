import { Injectable } from '@nestjs/common';
import { AppError, notFound } from '../common/app-error';
import { DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { Settings } from '../config/settings';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { DeliveriesRepository, QueuedDelivery, RedriveSelection } from './deliveries.repository';
import { DeliveryProducer } from './delivery-producer';
import { DeliveryEntity, DeliveryStatus } from './delivery.entity';
import { DeliveryView } from './dto/delivery.response';
import { OrderedLanes } from './ordered-lanes';
import { StrandedDeliveries } from './stranded-deliveries';

/** Rows are written before their jobs are queued: a delivery untouched this long may be stranded. */
export const STRANDED_AFTER_MS = 5 * 60_000;
/**
 * A first attempt the ingest job started is recorded within its subscription's timeout, plus its
 * transform's, plus this; one still pending after that has lost its sender (a process killed).
 */
export const FIRST_ATTEMPT_MARGIN_MS = 15_000;
const SWEEP_PAGE = 500;
/** Deliveries one sweep looks at, oldest first; the next sweep starts again from the oldest. */
const SWEEP_LIMIT = 10_000;

export interface DeliveryListQuery {
  status?: DeliveryStatus;
  subscriptionId?: string;
  eventId?: string;
  cursor?: string;
  limit?: number;
}

export interface RedriveQuery {
  /** pending: only those no queued job holds (stranded); blocked: heads parking their conversation. */
  status: 'dead' | 'failed' | 'pending' | 'blocked';
  subscriptionId?: string;
  since?: Date;
}

/**
 * The admin side of deliveries: reads, a single retry, bulk re-drives, and the sweep that
 * queues again the deliveries no job holds.
 */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly producer: DeliveryProducer,
    private readonly stranded: StrandedDeliveries,
    private readonly lanes: OrderedLanes,
    private readonly settings: Settings,
  ) {}

  async get(id: string): Promise<DeliveryView> {
    const delivery = await this.deliveries.findWithAttempts(id);
    if (!delivery) throw notFound(`Delivery ${id}`);
    return toDeliveryView(delivery);
  }

  async forEvent(eventId: string): Promise<DeliveryView[]> {
    return (await this.deliveries.ofEvent(eventId)).map(toDeliveryView);
  }

  async list(query: DeliveryListQuery): Promise<Page<DeliveryView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    return toPage(await this.deliveries.page({ ...query, limit }), limit, toDeliveryView);
  }

  /**
   * Sends one delivery again now, as a new run with the subscription's full attempt budget. A
   * dead delivery of an ordered conversation goes back in at its tail, as a new accept (its
   * conversation moved on without it); a failing or blocked head keeps its place.
   */
  async retry(id: string): Promise<DeliveryView> {
    const queued = await this.deliveries.startNewRun(id, async (delivery, manager) => {
      if (delivery.status === 'pending' && !(await this.isStranded(delivery))) {
        throw new AppError('conflict', `Delivery ${id} is already queued`);
      }
      if (delivery.status === 'held') {
        throw new AppError(
          'conflict',
          `Delivery ${id} is held behind the head of its conversation; it goes when its turn comes`,
        );
      }
      const subscription = await this.subscriptions.findById(delivery.subscriptionId, manager);
      if (!subscription?.enabled) {
        throw new AppError(
          'conflict',
          `Subscription ${delivery.subscriptionId} is disabled; enable it before retrying its deliveries`,
        );
      }
    });
    if (!queued) throw notFound(`Delivery ${id}`);
    if (queued.held) await this.lanes.release([queued.held]);
    else await this.producer.enqueue([queued]);
    return this.get(id);
  }

  /**
   * Re-drives every dead (or failed, or stranded pending) delivery of enabled subscriptions that
   * the query selects.
   */
  async redrive(query: RedriveQuery): Promise<{ redriven: number }> {
    const selection = await this.redriveSelection(query);
    const { queued, held } = await this.deliveries.redrive(selection);
    await this.producer.enqueue(queued);
    await this.lanes.release(held);
    return { redriven: queued.length + held.length };
  }

  /** How many deliveries `redrive` would queue again now, queuing none. */
  async redrivePreview(query: RedriveQuery): Promise<{ matching: number }> {
    const selection = await this.redriveSelection(query);
    return {
      matching: selection.ids?.length ?? (await this.deliveries.countRedrivable(selection)),
    };
  }

  private async redriveSelection(query: RedriveQuery): Promise<RedriveSelection> {
    if (query.subscriptionId) {
      const subscription = await this.subscriptions.findById(query.subscriptionId);
      if (!subscription) throw notFound(`Subscription ${query.subscriptionId}`);
      if (!subscription.enabled) {
        throw new AppError(
          'conflict',
          `Subscription ${query.subscriptionId} is disabled; enable it before re-driving its deliveries`,
        );
      }
    }
    const selection: RedriveSelection = {
      status: query.status,
      subscriptionId: query.subscriptionId,
      since: query.since,
    };
    if (query.status === 'pending') {
      selection.ids = (await this.strandedMatching(selection)).map((delivery) => delivery.id);
    }
    return selection;
  }

  /** The deliveries a re-drive selects (page by page) that no queued job holds. */
  private async strandedMatching(selection: RedriveSelection): Promise<QueuedDelivery[]> {
    const stranded: QueuedDelivery[] = [];
    let after = '';
    for (;;) {
      const page = await this.deliveries.redrivable(selection, after, SWEEP_PAGE);
      stranded.push(...(await this.stranded.among(page)));
      if (page.length < SWEEP_PAGE) return stranded;
      after = page[page.length - 1].id;
    }
  }

  private async isStranded(delivery: QueuedDelivery): Promise<boolean> {
    return (await this.stranded.among([delivery])).length > 0;
  }

  /**
   * Queues again the deliveries no job will attempt, among those untouched for
   * STRANDED_AFTER_MS: pending ones, and failed ones whose retry is that overdue. Each is
   * claimed by moving it to a new run in a conditional update, so sweepers running at once
   * queue it once, and a job of the old run that turns up after all finds itself stale. Unlike
   * a re-drive, the run keeps its status and attempt budget: the lost job is replaced, no more.
   */
  async requeueStranded(): Promise<{ checked: number; requeued: number }> {
    return this.requeueAll(SWEEP_LIMIT, STRANDED_AFTER_MS, (after) =>
      this.deliveries.untouched(after, STRANDED_AFTER_MS, SWEEP_PAGE),
    );
  }

  /**
   * Queues the first attempts whose sender died: pending deliveries no attempt touched for longer
   * than a send takes, and no job holds. One page per sweep, oldest first: in a backlog the
   * oldest are held by their fan-out jobs, and the five-minute sweep reaches the rest.
   */
  async requeueStrandedFirstAttempts(): Promise<{ checked: number; requeued: number }> {
    return this.requeueAll(SWEEP_PAGE, FIRST_ATTEMPT_MARGIN_MS, (after) =>
      this.deliveries.unsentFirstAttempts(
        after,
        this.settings.DELIVERY_TIMEOUT_MS,
        this.settings.TRANSFORM_TIMEOUT_MS + FIRST_ATTEMPT_MARGIN_MS,
        SWEEP_PAGE,
      ),
    );
  }

  private async requeueAll(
    limit: number,
    untouchedForMs: number,
    pageAfter: (after: string) => Promise<QueuedDelivery[]>,
  ): Promise<{ checked: number; requeued: number }> {
    let checked = 0;
    let requeued = 0;
    let after = '';
    while (checked < limit) {
      const page = await pageAfter(after);
      checked += page.length;
      requeued += await this.claimAndRequeue(await this.stranded.among(page), untouchedForMs);
      if (page.length < SWEEP_PAGE) break;
      after = page[page.length - 1].id;
    }
    return { checked, requeued };
  }

  /** Moves each delivery to a new run if it is as it was seen, and queues the ones moved. */
  private async claimAndRequeue(seen: QueuedDelivery[], untouchedForMs: number): Promise<number> {
    const claimed = await this.deliveries.claimUntouched(seen, untouchedForMs);
    await this.producer.enqueue(claimed);
    return claimed.length;
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
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
    completedAt: delivery.completedAt?.toISOString() ?? null,
    conversationKey: delivery.laneKey,
    orderingNote: delivery.orderingNote,
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
