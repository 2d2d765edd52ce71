import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsWhere, In, LessThan, Repository } from 'typeorm';
import { firstIdAt, newId } from '../common/ids';
import { batchPerTurn, roundsByDistinctKey } from '../database/batching';
import { resetDeadStreaksStatement } from '../subscriptions/subscriptions.repository';
import { DeliveryEntity, DeliveryStatus } from './delivery.entity';
import { AttemptOutcome } from '../outbound/http-sender';

/** The most rows one batched statement reads or writes. */
const MAX_BATCH = 200;

/** A delivery's run: what its job is named after. */
export type DeliveryRun = Pick<DeliveryEntity, 'id' | 'run'>;

/** A pending or failed delivery: what finding its job needs. */
export interface QueuedDelivery {
  id: string;
  eventId: string;
  run: number;
}

/** What sending a delivery needs from Postgres: its state and its event's canonical form. */
export interface SendingRow {
  id: string;
  event_id: string;
  subscription_id: string;
  status: DeliveryStatus;
  run: number;
  attempt_count: number;
  run_attempt_base: number;
  next_attempt_at: Date | null;
  /** The canonical event as stored: JSON text, not parsed (it is sent as it is). */
  canonical: string | null;
  lane_key: string | null;
  lane_at: Date | null;
  /** An ordered delivery with an unfinished one ahead of it in its lane: it must not be sent. */
  overtaken: boolean;
}

/** One ordered conversation of one subscription: the deliveries sent one at a time. */
export interface Lane {
  subscriptionId: string;
  laneKey: string;
}

/** Lanes whose head to promote, with the note it gets, after demoting an overtaken one. */
interface LanePromotion {
  lanes: Lane[];
  note?: string;
  demote?: DeliveryRun;
}

/** A lane whose head is failing, or blocked, and how many wait behind it. */
export interface StuckLane {
  laneKey: string;
  headId: string;
  headEventId: string;
  headStatus: 'failed' | 'blocked' | 'pending';
  attemptCount: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  held: number;
  oldestHeldAt: Date | null;
}

/** One attempt to record, with the delivery state it leads to. */
export interface AttemptRecord {
  deliveryId: string;
  /** The run the attempt was made in: a newer run (retry, re-drive) owns the delivery's state. */
  run: number;
  subscriptionId: string;
  outcome: AttemptOutcome;
  startedAt: Date;
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  completedAt: Date | null;
}

export interface RecordedAttempt {
  ownsState: boolean;
  previousStatus: DeliveryStatus;
}

export interface DeliveryPageQuery {
  status?: DeliveryStatus;
  subscriptionId?: string;
  eventId?: string;
  /** Ids below this one. */
  cursor?: string;
  limit: number;
}

export interface DeliveryBucketCount {
  bucket: Date;
  status: DeliveryStatus;
  count: number;
}

export interface FailingSubscription {
  id: string;
  name: string;
  enabled: boolean;
  failed: number;
  dead: number;
  lastError: string | null;
}

/** Deliveries of enabled subscriptions a re-drive selects. */
export interface RedriveSelection {
  status: DeliveryStatus;
  subscriptionId?: string;
  /** Created at or after. */
  since?: Date;
  /** Only these (the stranded ones, for pending). */
  ids?: string[];
}

/**
 * Of `deliveries d`: pending, or failed and overdue for its retry, untouched for `$2`
 * milliseconds by Postgres's clock (which stamps updated_at).
 */
const UNTOUCHED_FOR_$2_MS = `d.status IN ('pending', 'failed')
  AND d.updated_at < now() - $2 * interval '1 millisecond'
  AND (d.status = 'pending' OR d.next_attempt_at < now() - $2 * interval '1 millisecond')`;

/**
 * Ordered deliveries but the first attempts of heads made as they were stored: the ingest job
 * sends those with no job, for as long as the subscription's timeout (unsentFirstAttempts).
 */
const ORDERED_NOT_FIRST = `AND d.lane_key IS NOT NULL
  AND NOT (d.status = 'pending' AND d.run = 0 AND d.attempt_count = 0)`;

/**
 * A new run with the full attempt budget, queued again from the start. A dead delivery of an
 * ordered lane was passed by the lane already: it goes back in as a new accept, at the tail, held
 * until its turn. Any other (a failed or blocked head, a stranded pending one) keeps its place.
 */
const NEW_RUN = `run = d.run + 1, run_attempt_base = d.attempt_count,
  status = CASE WHEN d.lane_key IS NOT NULL AND d.status = 'dead' THEN 'held' ELSE 'pending' END,
  lane_at = CASE WHEN d.lane_key IS NOT NULL AND d.status = 'dead' THEN now() ELSE d.lane_at END,
  next_attempt_at = NULL, completed_at = NULL, updated_at = now()`;

/** Of a lane: the members not finished, in lane order (deliveries_lane_idx). */
const UNFINISHED = `('held', 'pending', 'failed', 'blocked')`;

/**
 * Promotes the head of each lane ($1 subscription ids, $2 lane keys, $3 notes) that has nothing in
 * flight nor blocked: the first unfinished member, when it is held, becomes pending as a new run.
 */
const PROMOTE_HEADS = `WITH lane AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS l (subscription_id, lane_key, note)
  ), head AS (
    SELECT h.id, lane.note FROM lane
    CROSS JOIN LATERAL (
      SELECT d.id, d.status FROM deliveries d
       WHERE d.subscription_id = lane.subscription_id AND d.lane_key = lane.lane_key
         AND d.lane_key IS NOT NULL AND d.status IN ('held', 'pending', 'failed', 'blocked')
       ORDER BY d.lane_at, d.event_id, d.id LIMIT 1
    ) h
    WHERE h.status = 'held' AND NOT EXISTS (
      SELECT 1 FROM deliveries a
       WHERE a.subscription_id = lane.subscription_id AND a.lane_key = lane.lane_key
         AND a.lane_key IS NOT NULL AND a.status IN ('pending', 'failed', 'blocked')
    )
  ), locked AS MATERIALIZED (
    -- In id order: two workers promoting the same lanes (one releasing after an outcome, the
    -- other after storing) would otherwise lock them in opposite orders and deadlock, and the
    -- promotion that Postgres cancels would leave all its lanes waiting for the sweep.
    SELECT d.id FROM deliveries d
     WHERE d.id IN (SELECT id FROM head) AND d.status = 'held'
     ORDER BY d.id FOR UPDATE
  )
  UPDATE deliveries d
     SET status = 'pending', run = d.run + 1, updated_at = now(),
         ordering_note = COALESCE(head.note, d.ordering_note)
    FROM head WHERE d.id = head.id AND d.status = 'held' AND d.id IN (SELECT id FROM locked)
  RETURNING d.id, d.run, d.subscription_id, d.lane_key`;

/** The advisory lock of a lane: a demotion and the promotion after it see each other. */
const LANE_LOCK_KEY = `hashtextextended(subscription_id || chr(10) || lane_key, 20261128)`;

/**
 * Every statement on the deliveries and delivery_attempts tables (but the one that inserts an
 * event with its deliveries). The delivery worker's reads and writes are batched: what its
 * concurrent jobs ask for within one turn of the event loop goes to Postgres as one statement
 * (DataLoader). Each statement is a round trip that costs the worker more CPU than preparing
 * the attempt, so 50 deliveries in flight make a few statements rather than a hundred.
 */
@Injectable()
export class DeliveriesRepository {
  private readonly sending = batchPerTurn<string, SendingRow | null>(
    (ids) => this.loadMany(ids),
    MAX_BATCH,
  );

  private readonly rawBodies = batchPerTurn<string, string | null>(
    (eventIds) => this.rawBodiesOf(eventIds),
    MAX_BATCH,
  );

  private readonly attempts = batchPerTurn<AttemptRecord, RecordedAttempt | null>(
    (records) => this.recordMany(records),
    MAX_BATCH,
  );

  private readonly promotions = batchPerTurn<LanePromotion, DeliveryRun[]>(
    (requests) => this.promoteMany(requests),
    MAX_BATCH,
  );

  constructor(
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /**
   * One delivery per subscription, in run 0: pending, or held at the tail of its lane when the
   * subscription is ordered (`laneKey`); a new accept, its place is now.
   */
  async insertPending(
    manager: EntityManager,
    eventId: string,
    targets: { subscriptionId: string; laneKey: string | null }[],
  ): Promise<DeliveryEntity[]> {
    if (targets.length === 0) return [];
    const now = new Date();
    const rows = targets.map(({ subscriptionId, laneKey }) =>
      manager.create(DeliveryEntity, {
        id: newId('dlv'),
        eventId,
        subscriptionId,
        status: laneKey ? 'held' : 'pending',
        run: 0,
        laneKey,
        laneAt: laneKey ? now : null,
      }),
    );
    await manager.insert(
      DeliveryEntity,
      rows.map(({ id, subscriptionId, status, laneKey, laneAt }) => ({
        id,
        eventId,
        subscriptionId,
        status,
        laneKey,
        laneAt,
      })),
    );
    return rows;
  }

  /** The lanes the event's held deliveries wait in. */
  async heldLanesOfEvent(eventId: string): Promise<Lane[]> {
    return (await this.dataSource.query(
      `SELECT DISTINCT subscription_id AS "subscriptionId", lane_key AS "laneKey" FROM deliveries
        WHERE event_id = $1 AND status = 'held'`,
      [eventId],
    )) as Lane[];
  }

  /**
   * Moves the head of each lane that has nothing in flight (pending, failed) nor blocked to
   * pending, as a new run (a fresh job id), with `note` on it when given. `demote`: a delivery
   * found overtaken (an earlier accept was stored after it became head) goes back to held first.
   * Batched: the promotions asked for within one event-loop turn go in one statement; two
   * workers promoting one lane at once promote one head. (Should a late-stored earlier webhook
   * make two of a lane pending, the later one steps back before it is sent: `overtaken`.)
   * Answers the heads promoted (for the first request naming each lane).
   */
  promoteHeads(
    lanes: Lane[],
    options: { note?: string; demote?: DeliveryRun } = {},
  ): Promise<DeliveryRun[]> {
    if (lanes.length === 0) return Promise.resolve([]);
    return this.promotions.load({ lanes, ...options });
  }

  private async promoteMany(requests: readonly LanePromotion[]): Promise<DeliveryRun[][]> {
    const notes = new Map<string, string | null>();
    const firstAsking = new Map<string, LanePromotion>();
    for (const request of requests) {
      for (const lane of request.lanes) {
        const id = laneId(lane);
        if (!firstAsking.has(id)) firstAsking.set(id, request);
        if (request.note && !notes.get(id)) notes.set(id, request.note);
        else if (!notes.has(id)) notes.set(id, null);
      }
    }
    const unique = [
      ...new Map(requests.flatMap((r) => r.lanes).map((l) => [laneId(l), l])).values(),
    ];
    const demotes = requests.flatMap((request) => (request.demote ? [request.demote] : []));
    const parameters = [
      unique.map((lane) => lane.subscriptionId),
      unique.map((lane) => lane.laneKey),
      unique.map((lane) => notes.get(laneId(lane)) ?? null),
    ];
    type Promoted = DeliveryRun & { subscription_id: string; lane_key: string };
    // One statement: two promoters of one lane pick the same head, and Postgres re-checks
    // `status = 'held'` on the row the second one waited for, so only one moves it.
    const heads: Promoted[] =
      demotes.length === 0
        ? ((await this.dataSource.query(PROMOTE_HEADS, parameters)) as [Promoted[], number])[0]
        : await this.dataSource.transaction(async (manager) => {
            // Demote and promote must see each other: one transaction, its lanes locked.
            await manager.query(
              `SELECT pg_advisory_xact_lock(k) FROM (
                 SELECT DISTINCT ${LANE_LOCK_KEY} AS k
                   FROM unnest($1::text[], $2::text[]) AS l (subscription_id, lane_key)
               ) keys ORDER BY k`,
              [parameters[0], parameters[1]],
            );
            await manager.query(
              `UPDATE deliveries d SET status = 'held', next_attempt_at = NULL, updated_at = now()
                 FROM unnest($1::text[], $2::int[]) AS o (id, run)
                WHERE d.id = o.id AND d.run = o.run AND d.status IN ('pending', 'failed')`,
              [demotes.map((demote) => demote.id), demotes.map((demote) => demote.run)],
            );
            return ((await manager.query(PROMOTE_HEADS, parameters)) as [Promoted[], number])[0];
          });
    const answers = new Map<LanePromotion, DeliveryRun[]>(requests.map((r) => [r, []]));
    for (const head of heads) {
      const request = firstAsking.get(
        laneId({ subscriptionId: head.subscription_id, laneKey: head.lane_key }),
      );
      answers.get(request!)!.push({ id: head.id, run: head.run });
    }
    return requests.map((request) => answers.get(request)!);
  }

  /**
   * Lanes with deliveries held for `idleMs` but nothing in flight nor blocked: their head was
   * never promoted (a worker died between recording the last outcome and promoting the next).
   */
  async idleLanes(idleMs: number, limit: number): Promise<Lane[]> {
    return (await this.dataSource.query(
      `SELECT DISTINCT h.subscription_id AS "subscriptionId", h.lane_key AS "laneKey"
         FROM deliveries h
        WHERE h.status = 'held' AND h.updated_at < now() - $1 * interval '1 millisecond'
          AND NOT EXISTS (
            SELECT 1 FROM deliveries a
             WHERE a.subscription_id = h.subscription_id AND a.lane_key = h.lane_key
               AND a.lane_key IS NOT NULL AND a.status IN ('pending', 'failed', 'blocked'))
        LIMIT $2`,
      [idleMs, limit],
    )) as Lane[];
  }

  /** How many deliveries are held, and since when the oldest (its place in its lane). */
  async heldSummary(): Promise<{ count: number; oldestAt: Date | null }> {
    const [row] = (await this.dataSource.query(
      `SELECT count(*)::int AS count, min(lane_at) AS oldest FROM deliveries WHERE status = 'held'`,
    )) as { count: number; oldest: Date | null }[];
    return { count: row.count, oldestAt: row.oldest };
  }

  /**
   * The subscription's lanes (or the one of `laneKey`) whose head has one of `states`: failed
   * (waiting for a retry), blocked, pending (in flight); with how many wait behind it.
   */
  async stuckLanes(
    subscriptionId: string,
    states: StuckLane['headStatus'][],
    limit: number,
    laneKey?: string,
  ): Promise<StuckLane[]> {
    const rows = (await this.dataSource.query(
      `SELECT h.lane_key, h.id, h.event_id, h.status, h.attempt_count, h.last_status_code,
              h.last_error, h.next_attempt_at, w.held, w.oldest
         FROM deliveries h
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS held, min(b.lane_at) AS oldest FROM deliveries b
            WHERE b.subscription_id = h.subscription_id AND b.lane_key = h.lane_key
              AND b.status = 'held'
         ) w
        WHERE h.subscription_id = $1 AND h.lane_key IS NOT NULL AND h.status = ANY($2::text[])
          AND ($4::text IS NULL OR h.lane_key = $4)
        ORDER BY h.lane_at, h.id
        LIMIT $3`,
      [subscriptionId, states, limit, laneKey ?? null],
    )) as {
      lane_key: string;
      id: string;
      event_id: string;
      status: StuckLane['headStatus'];
      attempt_count: number;
      last_status_code: number | null;
      last_error: string | null;
      next_attempt_at: Date | null;
      held: number;
      oldest: Date | null;
    }[];
    return rows.map((row) => ({
      laneKey: row.lane_key,
      headId: row.id,
      headEventId: row.event_id,
      headStatus: row.status,
      attemptCount: row.attempt_count,
      lastStatusCode: row.last_status_code,
      lastError: row.last_error,
      nextAttemptAt: row.next_attempt_at,
      held: row.held,
      oldestHeldAt: row.oldest,
    }));
  }

  /** The lane's head when it is blocked (or, `failing`, waiting for a retry); null otherwise. */
  async laneHead(lane: Lane): Promise<DeliveryEntity | null> {
    return this.deliveries.findOne({
      where: {
        subscriptionId: lane.subscriptionId,
        laneKey: lane.laneKey,
        status: In(['pending', 'failed', 'blocked']),
      },
    });
  }

  /** Ends a blocked (or failing) head without sending it: dead, noted as skipped. */
  async skipHead(head: DeliveryRun): Promise<boolean> {
    const [, count]: [unknown, number] = await this.dataSource.query(
      `UPDATE deliveries SET status = 'dead', run = run + 1, next_attempt_at = NULL,
              completed_at = now(), updated_at = now(),
              ordering_note = 'skipped by an operator; the next delivery was released'
        WHERE id = $1 AND run = $2 AND status IN ('blocked', 'failed')`,
      [head.id, head.run],
    );
    return count > 0;
  }

  pendingOfEvent(eventId: string): Promise<DeliveryEntity[]> {
    return this.deliveries.find({ where: { eventId, status: 'pending' } });
  }

  /** The ids of the events' deliveries, by event, in id order. */
  async idsByEvent(eventIds: string[]): Promise<Map<string, string[]>> {
    const rows = (await this.dataSource.query(
      `SELECT event_id, id FROM deliveries WHERE event_id = ANY($1::text[]) ORDER BY id`,
      [eventIds],
    )) as { event_id: string; id: string }[];
    const byEvent = new Map<string, string[]>();
    for (const row of rows) {
      const ids = byEvent.get(row.event_id) ?? [];
      ids.push(row.id);
      byEvent.set(row.event_id, ids);
    }
    return byEvent;
  }

  /** A delivery and its event's canonical form (batched); null when either is gone. */
  loadForSending(deliveryId: string): Promise<SendingRow | null> {
    return this.sending.load(deliveryId);
  }

  /** The raw body of a delivery's event, for a subscription that is sent the source's bytes (batched). */
  rawBodyOf(eventId: string): Promise<string | null> {
    return this.rawBodies.load(eventId);
  }

  /**
   * Records an attempt and the delivery's new state atomically (batched), with the delivery row
   * locked; a success also resets the subscription's run of dead deliveries. Null: the delivery
   * is gone.
   */
  recordAttempt(attempt: AttemptRecord): Promise<RecordedAttempt | null> {
    return this.attempts.load(attempt);
  }

  /** Ends the run's delivery without an attempt: dead, or blocked (the head of a blocking lane). */
  async abandon(
    delivery: DeliveryRun,
    reason: string,
    status: 'dead' | 'blocked' = 'dead',
  ): Promise<void> {
    await this.deliveries.update(
      { id: delivery.id, run: delivery.run },
      { status, lastError: reason, nextAttemptAt: null, completedAt: new Date() },
    );
  }

  findWithAttempts(id: string): Promise<DeliveryEntity | null> {
    return this.deliveries.findOne({
      where: { id },
      relations: { attempts: true },
      order: { attempts: { attemptNumber: 'ASC' } },
    });
  }

  ofEvent(eventId: string): Promise<DeliveryEntity[]> {
    return this.deliveries.find({ where: { eventId }, order: { id: 'ASC' } });
  }

  /** Newest first, one more than the limit (to tell whether a next page exists). */
  page(query: DeliveryPageQuery): Promise<DeliveryEntity[]> {
    const where: FindOptionsWhere<DeliveryEntity> = {};
    if (query.status) where.status = query.status;
    if (query.subscriptionId) where.subscriptionId = query.subscriptionId;
    if (query.eventId) where.eventId = query.eventId;
    if (query.cursor) where.id = LessThan(query.cursor);
    return this.deliveries.find({ where, order: { id: 'DESC' }, take: query.limit + 1 });
  }

  /**
   * Moves one delivery to a new run with the full attempt budget, its row locked while `check`
   * may refuse (by throwing; it reads through the transaction's manager). Null: no such delivery.
   */
  async startNewRun(
    id: string,
    check: (delivery: DeliveryEntity, manager: EntityManager) => Promise<void>,
  ): Promise<(DeliveryRun & { held: Lane | null }) | null> {
    return this.dataSource.transaction(async (manager) => {
      const delivery = await manager.findOne(DeliveryEntity, {
        where: { id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!delivery) return null;
      await check(delivery, manager);
      const [[row]]: [{ run: number; status: DeliveryStatus }[], number] = await manager.query(
        `UPDATE deliveries d SET ${NEW_RUN} WHERE d.id = $1 RETURNING d.run, d.status`,
        [id],
      );
      const held =
        row.status === 'held' && delivery.laneKey
          ? { subscriptionId: delivery.subscriptionId, laneKey: delivery.laneKey }
          : null;
      return { id, run: row.run, held };
    });
  }

  /** A page (in id order, after `after`) of the deliveries a re-drive selects. */
  async redrivable(
    selection: RedriveSelection,
    after: string,
    limit: number,
  ): Promise<QueuedDelivery[]> {
    const { conditions, parameters } = redriveConditions(selection);
    return (await this.dataSource.query(
      `SELECT d.id, d.event_id AS "eventId", d.run FROM deliveries d
         JOIN subscriptions s ON s.id = d.subscription_id
        WHERE ${conditions} AND d.id > $${parameters.length + 1}
        ORDER BY d.id LIMIT ${limit}`,
      [...parameters, after],
    )) as QueuedDelivery[];
  }

  /** How many deliveries a re-drive would select now. */
  async countRedrivable(selection: RedriveSelection): Promise<number> {
    const { conditions, parameters } = redriveConditions(selection);
    const [row]: { count: string }[] = await this.dataSource.query(
      `SELECT count(*) AS count FROM deliveries d
         JOIN subscriptions s ON s.id = d.subscription_id
        WHERE ${conditions}`,
      parameters,
    );
    return Number(row.count);
  }

  /**
   * Deliveries created since `since`, counted per status as it is now, in buckets of
   * `bucketSeconds`. Read by id range: ids begin with their creation time.
   */
  async countsPerBucket(since: Date, bucketSeconds: number): Promise<DeliveryBucketCount[]> {
    const rows: { bucket: Date; status: DeliveryStatus; count: string }[] =
      await this.dataSource.query(
        `SELECT to_timestamp(floor(extract(epoch FROM created_at) / $2) * $2) AS bucket,
                status, count(*) AS count
           FROM deliveries WHERE id >= $1
          GROUP BY 1, 2`,
        [firstIdAt('dlv', since), bucketSeconds],
      );
    return rows.map((row) => ({
      bucket: new Date(row.bucket),
      status: row.status,
      count: Number(row.count),
    }));
  }

  /**
   * The subscriptions with deliveries created since `since` that are failing (a retry is
   * scheduled) or dead, most of them first, with the newest such delivery's error.
   */
  async failingSubscriptions(since: Date, limit: number): Promise<FailingSubscription[]> {
    const rows: (Omit<FailingSubscription, 'failed' | 'dead'> & {
      failed: string;
      dead: string;
    })[] = await this.dataSource.query(
      `SELECT s.id, s.name, s.enabled,
                count(*) FILTER (WHERE d.status = 'failed') AS failed,
                count(*) FILTER (WHERE d.status = 'dead') AS dead,
                (array_agg(d.last_error ORDER BY d.id DESC))[1] AS "lastError"
           FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
          WHERE d.id >= $1 AND d.status IN ('failed', 'dead')
          GROUP BY s.id
          ORDER BY count(*) DESC, s.id
          LIMIT ${limit}`,
      [firstIdAt('dlv', since)],
    );
    return rows.map((row) => ({ ...row, failed: Number(row.failed), dead: Number(row.dead) }));
  }

  /**
   * Moves every delivery a re-drive selects to a new run with the full attempt budget: `queued`
   * to be sent now, `held` the lanes where dead ones went back in at the tail.
   */
  async redrive(selection: RedriveSelection): Promise<{ queued: DeliveryRun[]; held: Lane[] }> {
    const { conditions, parameters } = redriveConditions(selection);
    const [rows]: [
      (DeliveryRun & { status: DeliveryStatus; subscription_id: string; lane_key: string })[],
      number,
    ] = await this.dataSource.query(
      `UPDATE deliveries d SET ${NEW_RUN}
         FROM subscriptions s
        WHERE s.id = d.subscription_id AND ${conditions}
        RETURNING d.id, d.run, d.status, d.subscription_id, d.lane_key`,
      parameters,
    );
    return {
      queued: rows
        .filter((row) => row.status === 'pending')
        .map((row) => ({ id: row.id, run: row.run })),
      held: rows
        .filter((row) => row.status === 'held')
        .map((row) => ({ subscriptionId: row.subscription_id, laneKey: row.lane_key })),
    };
  }

  /**
   * A page (in id order, after `after`) of deliveries no attempt has touched for
   * `untouchedForMs`: pending ones, and failed ones whose retry is that overdue.
   */
  async untouched(
    after: string,
    untouchedForMs: number,
    limit: number,
    onlyOrdered = false,
  ): Promise<QueuedDelivery[]> {
    return (await this.dataSource.query(
      `SELECT d.id, d.event_id AS "eventId", d.run FROM deliveries d
        WHERE d.id > $1 AND ${UNTOUCHED_FOR_$2_MS} ${onlyOrdered ? ORDERED_NOT_FIRST : ''}
        ORDER BY d.id LIMIT $3`,
      [after, untouchedForMs, limit],
    )) as QueuedDelivery[];
  }

  /**
   * A page (in id order, after `after`) of first attempts nobody recorded: deliveries pending in
   * run 0 with no attempt (unordered ones, and heads made as they were stored), untouched for
   * longer than their subscription's timeout plus `marginMs` (so longer than a send of them can
   * take).
   */
  async unsentFirstAttempts(
    after: string,
    defaultTimeoutMs: number,
    marginMs: number,
    limit: number,
  ): Promise<QueuedDelivery[]> {
    return (await this.dataSource.query(
      `SELECT d.id, d.event_id AS "eventId", d.run FROM deliveries d
         JOIN subscriptions s ON s.id = d.subscription_id
        WHERE d.status = 'pending' AND d.id > $1 AND d.run = 0 AND d.attempt_count = 0
          AND d.updated_at < now() - (COALESCE(s.timeout_ms, $2) + $3) * interval '1 millisecond'
        ORDER BY d.id LIMIT $4`,
      [after, defaultTimeoutMs, marginMs, limit],
    )) as QueuedDelivery[];
  }

  /**
   * Moves each delivery to a new run if it is as it was seen and still untouched, keeping its
   * status and attempt budget; returns the ones moved. A conditional update: of two sweepers,
   * one claims it.
   */
  async claimUntouched(seen: QueuedDelivery[], untouchedForMs: number): Promise<DeliveryRun[]> {
    if (seen.length === 0) return [];
    const [claimed]: [DeliveryRun[], number] = await this.dataSource.query(
      `UPDATE deliveries d SET run = d.run + 1, updated_at = now()
         FROM unnest($1::text[], $3::int[]) AS seen (id, run)
        WHERE d.id = seen.id AND d.run = seen.run AND ${UNTOUCHED_FOR_$2_MS}
        RETURNING d.id, d.run`,
      [seen.map((delivery) => delivery.id), untouchedForMs, seen.map((delivery) => delivery.run)],
    );
    return claimed;
  }

  /**
   * Deletes the attempts started before `cutoff` of finished deliveries, `batchSize` rows per
   * statement (short statements, short locks); returns how many.
   */
  async deleteFinishedAttempts(cutoff: Date, batchSize: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [{ count }] = (await this.dataSource.query(
        `WITH doomed AS (
           SELECT a.id FROM delivery_attempts a
           JOIN deliveries d ON d.id = a.delivery_id
           WHERE a.started_at < $1 AND d.status IN ('succeeded', 'dead')
           LIMIT $2
         ), deleted AS (
           DELETE FROM delivery_attempts WHERE id IN (SELECT id FROM doomed) RETURNING 1
         )
         SELECT count(*)::int AS count FROM deleted`,
        [cutoff, batchSize],
      )) as { count: number }[];
      total += count;
      if (count < batchSize) return total;
    }
  }

  /**
   * The deliveries' rows with their events' canonical form, which Postgres turns into text and
   * sends once per event of the batch (an event's deliveries are usually loaded together): its
   * deliveries then share one string.
   */
  private async loadMany(ids: readonly string[]): Promise<(SendingRow | null)[]> {
    const rows = (await this.dataSource.query(
      `SELECT d.id, d.event_id, d.subscription_id, d.status, d.run, d.attempt_count,
              d.run_attempt_base, d.next_attempt_at, d.lane_key, d.lane_at,
              CASE WHEN row_number() OVER (PARTITION BY d.event_id ORDER BY d.id) = 1
                   THEN e.canonical::text END AS canonical,
              d.lane_key IS NOT NULL AND EXISTS (
                SELECT 1 FROM deliveries o
                 WHERE o.subscription_id = d.subscription_id AND o.lane_key = d.lane_key
                   AND o.lane_key IS NOT NULL AND o.status IN ${UNFINISHED} AND o.id <> d.id
                   AND (o.lane_at, o.event_id, o.id) < (d.lane_at, d.event_id, d.id)
              ) AS overtaken
         FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.id = ANY($1::text[])`,
      [ids],
    )) as SendingRow[];
    const canonicalOf = new Map<string, string | null>();
    for (const row of rows)
      if (row.canonical !== null) canonicalOf.set(row.event_id, row.canonical);
    const byId = new Map<string, SendingRow>();
    for (const row of rows) {
      byId.set(row.id, { ...row, canonical: canonicalOf.get(row.event_id) ?? null });
    }
    return ids.map((id) => byId.get(id) ?? null);
  }

  private async rawBodiesOf(eventIds: readonly string[]): Promise<(string | null)[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, raw_body FROM events WHERE id = ANY($1::text[])`,
      [[...new Set(eventIds)]],
    )) as { id: string; raw_body: string | null }[];
    const byId = new Map(rows.map((row) => [row.id, row.raw_body]));
    return eventIds.map((id) => byId.get(id) ?? null);
  }

  /**
   * Attempts of the same delivery go in separate statements, in the order they came. Should a
   * statement fail, its attempts are recorded one by one: one that Postgres refuses must not lose
   * the others', which other jobs made (the statement is atomic, so none was recorded twice).
   */
  private async recordMany(
    records: readonly AttemptRecord[],
  ): Promise<(RecordedAttempt | null | Error)[]> {
    const results = new Map<AttemptRecord, RecordedAttempt | null | Error>();
    for (const round of roundsByDistinctKey(records, (record) => record.deliveryId)) {
      let recorded: Map<string, RecordedAttempt>;
      try {
        recorded = await this.recordRound(round);
      } catch (error) {
        if (round.length === 1) {
          results.set(round[0], error as Error);
          continue;
        }
        for (const record of round) {
          try {
            results.set(record, (await this.recordRound([record])).get(record.deliveryId) ?? null);
          } catch (alone) {
            results.set(record, alone as Error);
          }
        }
        continue;
      }
      for (const record of round) results.set(record, recorded.get(record.deliveryId) ?? null);
    }
    return records.map((record) => results.get(record) ?? null);
  }

  /**
   * One statement for attempts of distinct deliveries. Rows are locked in id order, and the
   * subscriptions reset last in id order, so two batches never wait on each other in a circle.
   */
  private async recordRound(round: AttemptRecord[]): Promise<Map<string, RecordedAttempt>> {
    const column = <T>(pick: (record: AttemptRecord) => T) => round.map(pick);
    const rows = (await this.dataSource.query(
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::int[], $5::int[],
                              $6::boolean[], $7::text[], $8::text[], $9::text[],
                              $10::timestamptz[], $11::timestamptz[])
           AS i (delivery_id, run, started_at, duration_ms, status_code, succeeded, error,
                 response_excerpt, status, next_attempt_at, completed_at)
       ), current AS (
         SELECT d.id, d.run, d.status, d.attempt_count FROM deliveries d
          WHERE d.id IN (SELECT delivery_id FROM input)
          ORDER BY d.id
            FOR UPDATE
       ), attempt AS (
         INSERT INTO delivery_attempts (delivery_id, attempt_number, started_at, duration_ms,
                                        status_code, succeeded, error, response_excerpt)
         SELECT c.id, c.attempt_count + 1, i.started_at, i.duration_ms, i.status_code,
                i.succeeded, i.error, i.response_excerpt
           FROM current c JOIN input i ON i.delivery_id = c.id
       ), updated AS (
         UPDATE deliveries d
            SET attempt_count = c.attempt_count + 1, last_status_code = i.status_code,
                last_error = i.error, updated_at = now(),
                -- A retry or re-drive began while this attempt was in flight: its run owns the state.
                status = CASE WHEN c.run = i.run THEN i.status ELSE d.status END,
                next_attempt_at = CASE WHEN c.run = i.run THEN i.next_attempt_at
                                       ELSE d.next_attempt_at END,
                completed_at = CASE WHEN c.run = i.run THEN i.completed_at ELSE d.completed_at END
           FROM current c JOIN input i ON i.delivery_id = c.id
          WHERE d.id = c.id
          RETURNING d.id, c.run = i.run AS owns_state, c.status AS previous_status
       ), reset AS (
         ${resetDeadStreaksStatement('$12')}
       )
       SELECT id, owns_state, previous_status FROM updated`,
      [
        column((record) => record.deliveryId),
        column((record) => record.run),
        column((record) => record.startedAt),
        column((record) => record.outcome.durationMs),
        column((record) => record.outcome.statusCode),
        column((record) => record.outcome.succeeded),
        column((record) => record.outcome.error),
        column((record) => record.outcome.responseExcerpt),
        column((record) => record.status),
        column((record) => record.nextAttemptAt),
        column((record) => record.completedAt),
        [...new Set(round.filter((r) => r.outcome.succeeded).map((r) => r.subscriptionId))].sort(),
      ],
    )) as { id: string; owns_state: boolean; previous_status: DeliveryStatus }[];
    return new Map(
      rows.map((row) => [
        row.id,
        { ownsState: row.owns_state, previousStatus: row.previous_status },
      ]),
    );
  }
}

function laneId({ subscriptionId, laneKey }: Lane): string {
  return `${subscriptionId}\n${laneKey}`;
}

/** The WHERE conditions (over `deliveries d` joined to `subscriptions s`) of a re-drive. */
function redriveConditions(selection: RedriveSelection): {
  conditions: string;
  parameters: unknown[];
} {
  const conditions = ['d.status = $1', 's.enabled'];
  const parameters: unknown[] = [selection.status];
  if (selection.subscriptionId) {
    parameters.push(selection.subscriptionId);
    conditions.push(`d.subscription_id = $${parameters.length}`);
  }
  if (selection.since) {
    parameters.push(selection.since);
    conditions.push(`d.created_at >= $${parameters.length}`);
  }
  if (selection.ids) {
    parameters.push(selection.ids);
    conditions.push(`d.id = ANY($${parameters.length}::text[])`);
  }
  return { conditions: conditions.join(' AND '), parameters };
}
