import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppError, notFound } from '../common/app-error';
import { MetricsService } from '../monitoring/metrics.service';
import { SubscriptionsRepository } from '../subscriptions/subscriptions.repository';
import { DeliveriesRepository, DeliveryRun, Lane, StuckLane } from './deliveries.repository';
import { DeliveryProducer } from './delivery-producer';
import { StrandedDeliveries } from './stranded-deliveries';

/** A head untouched this long with no job to attempt it lost its job (a kill -9, a Redis loss). */
export const LANE_HEAD_STRANDED_AFTER_MS = 30_000;
/** A lane with deliveries held this long and nothing in flight missed its release. */
const IDLE_LANE_AFTER_MS = 5_000;
const SWEEP_LANES = 1_000;
const SWEEP_PAGE = 500;

/** A lane's head as the admin API shows it. */
export interface LaneView {
  conversationKey: string;
  /** retrying: the head failed and waits for its retry; blocked: it died (onDead "block"). */
  state: 'retrying' | 'blocked' | 'sending';
  head: {
    deliveryId: string;
    eventId: string;
    attemptCount: number;
    lastStatusCode: number | null;
    lastError: string | null;
    nextAttemptAt: string | null;
  };
  /** Deliveries of the conversation waiting behind the head. */
  held: number;
  /** When the oldest of them was accepted (its place in the lane). */
  oldestHeldAt: string | null;
}

/**
 * Ordered delivery per conversation (docs/ordering.md). Postgres holds each lane (one
 * subscription, one conversation key): its unfinished deliveries in accept order, of which only
 * the head is pending (queued in BullMQ, or sent by the ingest job that stored it as the head)
 * and the others `held`. A head's outcome releases the next
 * one; the sweep releases lanes a crash left with nothing in flight.
 */
@Injectable()
export class OrderedLanes implements OnModuleInit {
  constructor(
    private readonly deliveries: DeliveriesRepository,
    private readonly producer: DeliveryProducer,
    private readonly stranded: StrandedDeliveries,
    private readonly subscriptions: SubscriptionsRepository,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.readHeldDeliveriesWith(async () => {
      const { count, oldestAt } = await this.deliveries.heldSummary();
      return {
        count,
        oldestAgeSeconds: oldestAt ? Math.max(0, (Date.now() - oldestAt.getTime()) / 1000) : 0,
      };
    });
  }

  /** Promotes the head of each lane with nothing in flight, and queues its job. */
  async release(lanes: Lane[], note?: string, demote?: DeliveryRun): Promise<number> {
    const heads = await this.deliveries.promoteHeads(lanes, { note, demote });
    await this.producer.enqueue(heads);
    return heads.length;
  }

  /** After an event's deliveries were stored (or found stored by a retried ingest job). */
  async releaseHeldOfEvent(eventId: string, lanes?: Lane[]): Promise<void> {
    await this.release(lanes ?? (await this.deliveries.heldLanesOfEvent(eventId)));
  }

  /** A head's run ended: succeeded, or dead (onDead "release"); the next one goes. */
  async afterHead(
    head: { id: string; subscriptionId: string; laneKey: string },
    status: 'succeeded' | 'dead',
  ): Promise<void> {
    await this.release(
      [{ subscriptionId: head.subscriptionId, laneKey: head.laneKey }],
      status === 'dead' ? `released after ${head.id} died` : undefined,
    );
  }

  /**
   * A delivery about to be sent found an earlier accept ahead of it in its lane (stored after it
   * became head): it goes back to held, and the earlier one goes first.
   */
  async stepBack(delivery: DeliveryRun & { subscriptionId: string; laneKey: string }) {
    const lane = { subscriptionId: delivery.subscriptionId, laneKey: delivery.laneKey };
    const promoted = await this.release([lane], undefined, { id: delivery.id, run: delivery.run });
    // The head ahead of it may have finished meanwhile, its release seeing this one still in
    // flight and this step back seeing it: looked at again once the step back is committed, the
    // lane shows both (or that head's release comes after, and sees this one held).
    if (promoted === 0) await this.release([lane]);
  }

  /**
   * Releases lanes with deliveries held but nothing in flight, and queues again the heads whose
   * job is gone (claimed as a new run, so two sweepers queue each once).
   */
  async sweep(): Promise<{ lanesReleased: number; headsRequeued: number }> {
    const idle = await this.deliveries.idleLanes(IDLE_LANE_AFTER_MS, SWEEP_LANES);
    const lanesReleased = await this.release(idle);
    let headsRequeued = 0;
    let after = '';
    for (;;) {
      const page = await this.deliveries.untouched(
        after,
        LANE_HEAD_STRANDED_AFTER_MS,
        SWEEP_PAGE,
        true,
      );
      const claimed = await this.deliveries.claimUntouched(
        await this.stranded.among(page),
        LANE_HEAD_STRANDED_AFTER_MS,
      );
      await this.producer.enqueue(claimed);
      headsRequeued += claimed.length;
      if (page.length < SWEEP_PAGE) break;
      after = page[page.length - 1].id;
    }
    return { lanesReleased, headsRequeued };
  }

  /** The subscription's conversations whose head is not through, with how many wait behind. */
  async list(subscriptionId: string, state?: LaneView['state'], limit = 100): Promise<LaneView[]> {
    await this.subscription(subscriptionId);
    const statuses: StuckLane['headStatus'][] =
      state === 'blocked'
        ? ['blocked']
        : state === 'retrying'
          ? ['failed']
          : state === 'sending'
            ? ['pending']
            : ['failed', 'blocked'];
    return (await this.deliveries.stuckLanes(subscriptionId, statuses, limit)).map(toLaneView);
  }

  /** Sends a blocked head again now, as a new run with the full budget; it keeps its place. */
  async redriveHead(subscriptionId: string, conversationKey: string): Promise<LaneView> {
    const head = await this.head(subscriptionId, conversationKey, ['blocked']);
    const queued = await this.deliveries.startNewRun(head.id, async (delivery) => {
      if (delivery.status !== 'blocked') {
        throw new AppError('conflict', `Delivery ${head.id} is no longer blocked`);
      }
    });
    if (queued) await this.producer.enqueue([queued]);
    return this.viewOf(subscriptionId, conversationKey);
  }

  /** Gives up on a blocked (or retrying) head: it is dead, and the next delivery goes. */
  async skipHead(subscriptionId: string, conversationKey: string): Promise<{ skipped: string }> {
    const head = await this.head(subscriptionId, conversationKey, ['blocked', 'failed']);
    if (!(await this.deliveries.skipHead(head))) {
      throw new AppError('conflict', `Delivery ${head.id} changed meanwhile; try again`);
    }
    await this.release(
      [{ subscriptionId, laneKey: conversationKey }],
      `released after ${head.id} was skipped by an operator`,
    );
    return { skipped: head.id };
  }

  private async head(subscriptionId: string, conversationKey: string, statuses: string[]) {
    await this.subscription(subscriptionId);
    const head = await this.deliveries.laneHead({ subscriptionId, laneKey: conversationKey });
    if (!head || !statuses.includes(head.status)) {
      throw new AppError(
        'conflict',
        `Conversation ${conversationKey} of subscription ${subscriptionId} has no ${statuses.join(' or ')} head`,
      );
    }
    return head;
  }

  private async viewOf(subscriptionId: string, conversationKey: string): Promise<LaneView> {
    const [lane] = await this.deliveries.stuckLanes(
      subscriptionId,
      ['pending', 'failed', 'blocked'],
      1,
      conversationKey,
    );
    if (!lane) throw notFound(`Conversation ${conversationKey} of subscription ${subscriptionId}`);
    return toLaneView(lane);
  }

  private async subscription(id: string): Promise<void> {
    const subscription = await this.subscriptions.findById(id);
    if (!subscription) throw notFound(`Subscription ${id}`);
  }
}

function toLaneView(lane: StuckLane): LaneView {
  return {
    conversationKey: lane.laneKey,
    state:
      lane.headStatus === 'blocked'
        ? 'blocked'
        : lane.headStatus === 'failed'
          ? 'retrying'
          : 'sending',
    head: {
      deliveryId: lane.headId,
      eventId: lane.headEventId,
      attemptCount: lane.attemptCount,
      lastStatusCode: lane.lastStatusCode,
      lastError: lane.lastError,
      nextAttemptAt: lane.nextAttemptAt?.toISOString() ?? null,
    },
    held: lane.held,
    oldestHeldAt: lane.oldestHeldAt?.toISOString() ?? null,
  };
}
