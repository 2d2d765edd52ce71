import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource, EntityManager, FindOptionsWhere, LessThan, Repository } from 'typeorm';
import { AppError, notFound } from '../common/app-error';
import { newId } from '../common/ids';
import { DEFAULT_PAGE_SIZE, Page, toPage } from '../common/pagination';
import { Settings } from '../config/settings';
import { batchPerTurn } from '../database/batching';
import { DELIVERY_QUEUE, DeliveryJob, DeliveryJobName } from '../queues/queue-names';
import { SubscriptionMatcher } from '../routing/subscription-matcher';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { BatchedDeliveryStore } from './batched-delivery-store';
import {
  deliveryJobId,
  fanOutJobId,
  QueuedDelivery,
  StrandedDeliveries,
} from './stranded-deliveries';
import { DeliveryView } from './dto/delivery.response';
import { DeliveryEntity, DeliveryStatus } from './delivery.entity';
import { AttemptOutcome } from '../outbound/http-sender';

/**
 * BullMQ's own attempt budget per job. The processor decides when a delivery is dead from the
 * attempts recorded in Postgres (at most 100 per run); the margin absorbs attempts that failed
 * inside the router (Postgres down) and were never sent.
 */
const JOB_ATTEMPTS = 150;
const ENQUEUE_CHUNK = 1000;
/** Rows are written before their jobs are queued: a delivery untouched this long may be stranded. */
export const STRANDED_AFTER_MS = 5 * 60_000;
const SWEEP_PAGE = 500;
/** Deliveries one sweep looks at, oldest first; the next sweep starts again from the oldest. */
const SWEEP_LIMIT = 10_000;
/**
 * Of `deliveries d`: pending, or failed and overdue for its retry, untouched for `$2`
 * milliseconds by Postgres's clock (which stamps updated_at).
 */
const UNTOUCHED_FOR_$2_MS = `d.status IN ('pending', 'failed')
  AND d.updated_at < now() - $2 * interval '1 millisecond'
  AND (d.status = 'pending' OR d.next_attempt_at < now() - $2 * interval '1 millisecond')`;

export interface DeliveryListQuery {
  status?: DeliveryStatus;
  subscriptionId?: string;
  eventId?: string;
  cursor?: string;
  limit?: number;
}

export interface RedriveQuery {
  /** pending: only those no queued job holds (stranded). */
  status: 'dead' | 'failed' | 'pending';
  subscriptionId?: string;
  since?: Date;
}

/** A delivery to send, with what signing and sending it needs. */
export interface DeliveryToSend {
  delivery: Pick<
    DeliveryEntity,
    | 'id'
    | 'eventId'
    | 'subscriptionId'
    | 'status'
    | 'run'
    | 'attemptCount'
    | 'runAttemptBase'
    | 'nextAttemptAt'
  >;
  subscription: SubscriptionEntity;
  /** The canonical event as stored (JSON text). */
  canonicalJson: string;
  rawBody: string | null;
}

/** What an attempt changed beyond the delivery. */
export interface AttemptRecorded {
  status: DeliveryStatus;
  /** Set when this attempt disabled the subscription (410, or too many dead deliveries). */
  disabledReason: string | null;
}

type Queued = Pick<DeliveryEntity, 'id' | 'run'>;
type QueuedJob = DeliveryJob & { jobId: string; delayMs: number };

@Injectable()
export class DeliveriesService {
  private readonly jobs = batchPerTurn<QueuedJob, true>(
    (batch) => this.addJobs(batch),
    ENQUEUE_CHUNK,
  );

  constructor(
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(DELIVERY_QUEUE)
    private readonly queue: Queue<DeliveryJob['data'], void, DeliveryJobName>,
    private readonly settings: Settings,
    private readonly matcher: SubscriptionMatcher,
    private readonly store: BatchedDeliveryStore,
    private readonly stranded: StrandedDeliveries,
  ) {}

  /** Persists one pending delivery per subscription; rows exist before any job is queued. */
  async createForEvent(
    manager: EntityManager,
    eventId: string,
    subscriptions: Pick<SubscriptionEntity, 'id'>[],
  ): Promise<DeliveryEntity[]> {
    if (subscriptions.length === 0) return [];
    const rows = subscriptions.map((subscription) =>
      manager.create(DeliveryEntity, {
        id: newId('dlv'),
        eventId,
        subscriptionId: subscription.id,
        status: 'pending',
        run: 0,
      }),
    );
    await manager.insert(
      DeliveryEntity,
      rows.map(({ id, subscriptionId, status }) => ({ id, eventId, subscriptionId, status })),
    );
    return rows;
  }

  /** The event's pending deliveries that no queued job holds. */
  async strandedOfEvent(eventId: string): Promise<DeliveryEntity[]> {
    const pending = await this.deliveries.find({ where: { eventId, status: 'pending' } });
    return this.stranded.among(pending);
  }

  /**
   * Queues the first attempts of an event's new deliveries as one job, which makes them together
   * (a failed one is then retried by a job of its own). Its id names the event and the first
   * delivery, so queueing the same deliveries twice (a retried ingest job) is harmless.
   */
  async enqueueFirstAttempts(eventId: string, deliveries: Queued[]): Promise<void> {
    if (deliveries.length === 0) return;
    const sorted = [...deliveries].sort((a, b) => a.id.localeCompare(b.id));
    await this.jobs.load({
      name: 'delivery.fanout',
      data: {
        eventId,
        deliveries: sorted.map((delivery) => ({ deliveryId: delivery.id, run: delivery.run })),
      },
      jobId: fanOutJobId(eventId, sorted[0].id),
      delayMs: 0,
    });
  }

  /**
   * Queues one job per delivery run, after `delayMs`. The job id is the delivery id (plus the run
   * after a re-drive), so queueing twice is harmless; the processor decides retries and delays.
   */
  async enqueue(deliveries: Queued[], delayMs = 0): Promise<void> {
    await Promise.all(
      deliveries.map((delivery) =>
        this.jobs.load({
          name: 'delivery.send',
          data: { deliveryId: delivery.id, run: delivery.run },
          jobId: deliveryJobId(delivery),
          delayMs,
        }),
      ),
    );
  }

  /** What concurrent callers queue within one event-loop turn goes to Redis as one addBulk. */
  private async addJobs(jobs: readonly QueuedJob[]): Promise<true[]> {
    await this.queue.addBulk(
      jobs.map(({ name, data, jobId, delayMs }) => ({
        name,
        data,
        opts: {
          jobId,
          delay: delayMs > 0 ? delayMs : undefined,
          attempts: JOB_ATTEMPTS,
          backoff: { type: 'delivery' },
          removeOnComplete: { age: 3600, count: 10_000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      })),
    );
    return jobs.map(() => true);
  }

  /**
   * A delivery with what sending it needs: its state and event from one (batched) query, the
   * subscription from the matcher (its in-memory index, Postgres when not enabled there).
   */
  async loadForSending(deliveryId: string): Promise<DeliveryToSend | null> {
    const row = await this.store.load(deliveryId);
    if (!row?.canonical) return null;
    const subscription = await this.matcher.withSecrets(row.subscription_id);
    if (!subscription) return null;
    const rawBody =
      subscription.payloadFormat === 'raw'
        ? ((
            (await this.dataSource.query(`SELECT raw_body FROM events WHERE id = $1`, [
              row.event_id,
            ])) as { raw_body: string }[]
          )[0]?.raw_body ?? null)
        : null;
    return {
      delivery: {
        id: row.id,
        eventId: row.event_id,
        subscriptionId: row.subscription_id,
        status: row.status,
        run: row.run,
        attemptCount: row.attempt_count,
        runAttemptBase: row.run_attempt_base,
        nextAttemptAt: row.next_attempt_at,
      },
      subscription,
      canonicalJson: row.canonical,
      rawBody,
    };
  }

  /**
   * Records an attempt and the delivery's new state in one (batched) statement, the row locked
   * while it runs; a success also resets the subscription's run of dead deliveries. A dead delivery
   * then extends that run (and may disable the subscription), and 410 Gone disables it at once.
   */
  async recordAttempt(
    delivery: Pick<DeliveryEntity, 'id' | 'run' | 'subscriptionId'>,
    outcome: AttemptOutcome,
    startedAt: Date,
    next: { final: boolean; nextAttemptAt: Date | null },
  ): Promise<AttemptRecorded> {
    const status: DeliveryStatus = outcome.succeeded ? 'succeeded' : next.final ? 'dead' : 'failed';
    const recorded = await this.store.record({
      deliveryId: delivery.id,
      run: delivery.run,
      subscriptionId: delivery.subscriptionId,
      outcome,
      startedAt,
      status,
      nextAttemptAt: status === 'failed' ? next.nextAttemptAt : null,
      completedAt: status === 'succeeded' || status === 'dead' ? new Date() : null,
    });
    if (!recorded) return { status, disabledReason: null };
    const disabledReason =
      status === 'dead' || outcome.gone
        ? await this.dataSource.transaction((manager) =>
            this.judgeSubscription(manager, delivery.subscriptionId, { status, outcome }),
          )
        : null;
    return { status: recorded.ownsState ? status : recorded.previousStatus, disabledReason };
  }

  /** Ends a delivery without an attempt (its subscription was disabled meanwhile). */
  async abandon(delivery: Pick<DeliveryEntity, 'id' | 'run'>, reason: string): Promise<void> {
    await this.deliveries.update(
      { id: delivery.id, run: delivery.run },
      { status: 'dead', lastError: reason, nextAttemptAt: null, completedAt: new Date() },
    );
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

  /** Sends one delivery again now, as a new run with the subscription's full attempt budget. */
  async retry(id: string): Promise<DeliveryView> {
    const queued = await this.dataSource.transaction(async (manager) => {
      const delivery = await manager.findOne(DeliveryEntity, {
        where: { id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!delivery) throw notFound(`Delivery ${id}`);
      if (delivery.status === 'pending' && !(await this.isStranded(delivery))) {
        throw new AppError('conflict', `Delivery ${id} is already queued`);
      }
      const subscription = await manager.findOneBy(SubscriptionEntity, {
        id: delivery.subscriptionId,
      });
      if (!subscription?.enabled) {
        throw new AppError(
          'conflict',
          `Subscription ${delivery.subscriptionId} is disabled; enable it before retrying its deliveries`,
        );
      }
      const run = delivery.run + 1;
      await manager.update(
        DeliveryEntity,
        { id },
        {
          run,
          runAttemptBase: delivery.attemptCount,
          status: 'pending',
          nextAttemptAt: null,
          completedAt: null,
        },
      );
      return { id, run };
    });
    await this.enqueue([queued]);
    return this.get(id);
  }

  /**
   * Re-drives every dead (or failed, or stranded pending) delivery of enabled subscriptions that
   * the query selects.
   */
  async redrive(query: RedriveQuery): Promise<{ redriven: number }> {
    if (query.subscriptionId) {
      const subscription = await this.dataSource
        .getRepository(SubscriptionEntity)
        .findOneBy({ id: query.subscriptionId });
      if (!subscription) throw notFound(`Subscription ${query.subscriptionId}`);
      if (!subscription.enabled) {
        throw new AppError(
          'conflict',
          `Subscription ${query.subscriptionId} is disabled; enable it before re-driving its deliveries`,
        );
      }
    }
    const conditions = ['d.status = $1', 's.enabled'];
    const parameters: unknown[] = [query.status];
    if (query.subscriptionId) {
      parameters.push(query.subscriptionId);
      conditions.push(`d.subscription_id = $${parameters.length}`);
    }
    if (query.since) {
      parameters.push(query.since);
      conditions.push(`d.created_at >= $${parameters.length}`);
    }
    if (query.status === 'pending') {
      const stranded = await this.strandedMatching(conditions.join(' AND '), parameters);
      parameters.push(stranded.map((delivery) => delivery.id));
      conditions.push(`d.id = ANY($${parameters.length}::text[])`);
    }
    const [rows]: [Queued[], number] = await this.dataSource.query(
      `UPDATE deliveries d
          SET run = d.run + 1, run_attempt_base = d.attempt_count, status = 'pending',
              next_attempt_at = NULL, completed_at = NULL, updated_at = now()
         FROM subscriptions s
        WHERE s.id = d.subscription_id AND ${conditions.join(' AND ')}
        RETURNING d.id, d.run`,
      parameters,
    );
    await this.enqueue(rows);
    return { redriven: rows.length };
  }

  /** The deliveries a re-drive's conditions select (page by page) that no queued job holds. */
  private async strandedMatching(
    conditions: string,
    parameters: unknown[],
  ): Promise<QueuedDelivery[]> {
    const stranded: QueuedDelivery[] = [];
    let after = '';
    for (;;) {
      const page = (await this.dataSource.query(
        `SELECT d.id, d.event_id AS "eventId", d.run FROM deliveries d
           JOIN subscriptions s ON s.id = d.subscription_id
          WHERE ${conditions} AND d.id > $${parameters.length + 1}
          ORDER BY d.id LIMIT ${SWEEP_PAGE}`,
        [...parameters, after],
      )) as QueuedDelivery[];
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
    let checked = 0;
    let requeued = 0;
    let after = '';
    while (checked < SWEEP_LIMIT) {
      const page = (await this.dataSource.query(
        `SELECT d.id, d.event_id AS "eventId", d.run FROM deliveries d
          WHERE d.id > $1 AND ${UNTOUCHED_FOR_$2_MS}
          ORDER BY d.id LIMIT $3`,
        [after, STRANDED_AFTER_MS, SWEEP_PAGE],
      )) as QueuedDelivery[];
      checked += page.length;
      requeued += await this.claimAndRequeue(await this.stranded.among(page));
      if (page.length < SWEEP_PAGE) break;
      after = page[page.length - 1].id;
    }
    return { checked, requeued };
  }

  /** Moves each delivery to a new run if it is as it was seen, and queues the ones moved. */
  private async claimAndRequeue(seen: QueuedDelivery[]): Promise<number> {
    if (seen.length === 0) return 0;
    const [claimed]: [Queued[], number] = await this.dataSource.query(
      `UPDATE deliveries d SET run = d.run + 1, updated_at = now()
         FROM unnest($1::text[], $3::int[]) AS seen (id, run)
        WHERE d.id = seen.id AND d.run = seen.run AND ${UNTOUCHED_FOR_$2_MS}
        RETURNING d.id, d.run`,
      [
        seen.map((delivery) => delivery.id),
        STRANDED_AFTER_MS,
        seen.map((delivery) => delivery.run),
      ],
    );
    await this.enqueue(claimed);
    return claimed.length;
  }

  private async judgeSubscription(
    manager: EntityManager,
    subscriptionId: string,
    { status, outcome }: { status: DeliveryStatus; outcome: AttemptOutcome },
  ): Promise<string | null> {
    if (outcome.gone) {
      return this.disable(
        manager,
        subscriptionId,
        'the target answered 410 Gone; the subscription was disabled',
      );
    }
    if (status !== 'dead') return null;
    const [rows]: [{ consecutive_dead: number; disable_after_dead: number | null }[], number] =
      await manager.query(
        `UPDATE subscriptions SET consecutive_dead = consecutive_dead + 1
          WHERE id = $1 AND enabled RETURNING consecutive_dead, disable_after_dead`,
        [subscriptionId],
      );
    const counted = rows[0];
    if (!counted) return null;
    const threshold = counted.disable_after_dead ?? this.settings.SUBSCRIPTION_DISABLE_AFTER_DEAD;
    if (threshold === 0 || counted.consecutive_dead < threshold) return null;
    return this.disable(
      manager,
      subscriptionId,
      `${counted.consecutive_dead} consecutive deliveries died (last: ${outcome.error ?? 'unknown error'}); the subscription was disabled`,
    );
  }

  private async disable(
    manager: EntityManager,
    subscriptionId: string,
    reason: string,
  ): Promise<string | null> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE subscriptions SET enabled = false, disabled_reason = $2, disabled_at = now(), updated_at = now()
        WHERE id = $1 AND enabled RETURNING id`,
      [subscriptionId, reason],
    );
    return rows.length > 0 ? reason : null;
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
