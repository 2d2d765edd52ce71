import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { batchPerTurn, roundsByDistinctKey } from '../database/batching';
import { DeliveryStatus } from './delivery.entity';
import { AttemptOutcome } from '../outbound/http-sender';

/** The most rows one statement reads or writes. */
const MAX_BATCH = 200;

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

/**
 * The delivery worker's reads and writes, batched: what its concurrent jobs ask for within one
 * turn of the event loop goes to Postgres as one statement (DataLoader). Each statement is a
 * round trip that costs the worker more CPU than preparing the attempt, so 50 deliveries in
 * flight make a few statements rather than a hundred.
 */
@Injectable()
export class BatchedDeliveryStore {
  private readonly sending = batchPerTurn<string, SendingRow | null>(
    (ids) => this.loadMany(ids),
    MAX_BATCH,
  );

  private readonly attempts = batchPerTurn<AttemptRecord, RecordedAttempt | null>(
    (records) => this.recordMany(records),
    MAX_BATCH,
  );

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** A delivery and its event's canonical form; null when either is gone. */
  load(deliveryId: string): Promise<SendingRow | null> {
    return this.sending.load(deliveryId);
  }

  /**
   * Records an attempt and the delivery's new state atomically, with the delivery row locked;
   * a success also resets the subscription's run of dead deliveries. Null: the delivery is gone.
   */
  record(attempt: AttemptRecord): Promise<RecordedAttempt | null> {
    return this.attempts.load(attempt);
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
         UPDATE subscriptions SET consecutive_dead = 0
          WHERE id = ANY($12::text[]) AND consecutive_dead <> 0
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
