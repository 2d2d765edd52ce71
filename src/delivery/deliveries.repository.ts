import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsWhere, LessThan, Repository } from 'typeorm';
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

/** A new run with the full attempt budget, queued again from the start. */
const NEW_RUN = `run = d.run + 1, run_attempt_base = d.attempt_count, status = 'pending',
  next_attempt_at = NULL, completed_at = NULL, updated_at = now()`;

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

  private readonly attempts = batchPerTurn<AttemptRecord, RecordedAttempt | null>(
    (records) => this.recordMany(records),
    MAX_BATCH,
  );

  constructor(
    @InjectRepository(DeliveryEntity) private readonly deliveries: Repository<DeliveryEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** One pending delivery per subscription, in run 0. */
  async insertPending(
    manager: EntityManager,
    eventId: string,
    subscriptionIds: string[],
  ): Promise<DeliveryEntity[]> {
    if (subscriptionIds.length === 0) return [];
    const rows = subscriptionIds.map((subscriptionId) =>
      manager.create(DeliveryEntity, {
        id: newId('dlv'),
        eventId,
        subscriptionId,
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

  /** The raw body of a delivery's event, for a subscription that is sent the source's bytes. */
  async rawBodyOf(eventId: string): Promise<string | null> {
    const rows = (await this.dataSource.query(`SELECT raw_body FROM events WHERE id = $1`, [
      eventId,
    ])) as { raw_body: string }[];
    return rows[0]?.raw_body ?? null;
  }

  /**
   * Records an attempt and the delivery's new state atomically (batched), with the delivery row
   * locked; a success also resets the subscription's run of dead deliveries. Null: the delivery
   * is gone.
   */
  recordAttempt(attempt: AttemptRecord): Promise<RecordedAttempt | null> {
    return this.attempts.load(attempt);
  }

  /** Ends the run's delivery without an attempt. */
  async abandon(delivery: DeliveryRun, reason: string): Promise<void> {
    await this.deliveries.update(
      { id: delivery.id, run: delivery.run },
      { status: 'dead', lastError: reason, nextAttemptAt: null, completedAt: new Date() },
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
  ): Promise<DeliveryRun | null> {
    return this.dataSource.transaction(async (manager) => {
      const delivery = await manager.findOne(DeliveryEntity, {
        where: { id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!delivery) return null;
      await check(delivery, manager);
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

  /** Moves every delivery a re-drive selects to a new run with the full attempt budget. */
  async redrive(selection: RedriveSelection): Promise<DeliveryRun[]> {
    const { conditions, parameters } = redriveConditions(selection);
    const [rows]: [DeliveryRun[], number] = await this.dataSource.query(
      `UPDATE deliveries d SET ${NEW_RUN}
         FROM subscriptions s
        WHERE s.id = d.subscription_id AND ${conditions}
        RETURNING d.id, d.run`,
      parameters,
    );
    return rows;
  }

  /**
   * A page (in id order, after `after`) of deliveries no attempt has touched for
   * `untouchedForMs`: pending ones, and failed ones whose retry is that overdue.
   */
  async untouched(after: string, untouchedForMs: number, limit: number): Promise<QueuedDelivery[]> {
    return (await this.dataSource.query(
      `SELECT d.id, d.event_id AS "eventId", d.run FROM deliveries d
        WHERE d.id > $1 AND ${UNTOUCHED_FOR_$2_MS}
        ORDER BY d.id LIMIT $3`,
      [after, untouchedForMs, limit],
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

  private async loadMany(ids: readonly string[]): Promise<(SendingRow | null)[]> {
    const rows = (await this.dataSource.query(
      `SELECT d.id, d.event_id, d.subscription_id, d.status, d.run, d.attempt_count,
              d.run_attempt_base, d.next_attempt_at, e.canonical::text AS canonical
         FROM deliveries d JOIN events e ON e.id = d.event_id
        WHERE d.id = ANY($1::text[])`,
      [ids],
    )) as SendingRow[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Attempts of the same delivery go in separate statements, in the order they came. */
  private async recordMany(records: readonly AttemptRecord[]): Promise<(RecordedAttempt | null)[]> {
    const results = new Map<AttemptRecord, RecordedAttempt | null>();
    for (const round of roundsByDistinctKey(records, (record) => record.deliveryId)) {
      const recorded = await this.recordRound(round);
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
