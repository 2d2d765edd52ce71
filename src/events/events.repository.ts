import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, FindOptionsWhere, LessThan, MoreThanOrEqual } from 'typeorm';
import { EventEntity } from './event.entity';

/** An event row to insert, with the deliveries to create beside it. */
export interface EventToStore {
  id: string;
  sourceId: string;
  sourceKind: string;
  sourceEvent: string | null;
  sourceDeliveryId: string | null;
  type: string | null;
  status: 'routed' | 'unprocessable';
  error: string | null;
  conversationKey: string | null;
  /** The router's conversation id (`conv_…`), when the event belongs to a conversation. */
  conversationId: string | null;
  occurredAt: string;
  receivedAt: string;
  rawBody: string;
  /** The canonical event as JSON text, or null when it could not be normalized. */
  canonical: string | null;
  /**
   * laneKey: the conversation key when the subscription is ordered; such a delivery starts held,
   * or pending as its lane's head when nothing of its lane is unfinished.
   */
  deliveries: { id: string; subscriptionId: string; laneKey: string | null }[];
}

/** What a round's statement inserted. */
export interface InsertedRound {
  /** The events inserted: one stored already (a retried job) is not. */
  events: Set<string>;
  /** Ordered deliveries that start pending, heads of lanes with nothing else unfinished. */
  heads: Set<string>;
}

export interface ConversationSeen {
  sourceId: string;
  sourceKind: string;
  externalId: string;
  contactExternalId: string | null;
}

/**
 * Writes of another table's owner made in the same statement as the events (one atomic
 * statement, no transaction round trips): CTEs, their parameters, and a condition that must
 * hold, or the statement fails and nothing of it is written.
 */
export interface StatementCompanion {
  /** `name AS (…)` CTEs, their parameters numbered from `firstParam`. */
  ctes(firstParam: number): string;
  params: unknown[];
  /** SQL over the CTEs (parameters as in `ctes`): false fails the statement with `failure`. */
  holds(firstParam: number): string;
  failure: string;
}

/** Several owners' companions as one: all their writes, all their conditions. */
export function allCompanions(
  parts: (StatementCompanion | undefined)[],
): StatementCompanion | undefined {
  const present = parts.filter((part) => part !== undefined);
  if (present.length <= 1) return present[0];
  const firsts = (first: number) => {
    const starts: number[] = [];
    for (const part of present) {
      starts.push(first);
      first += part.params.length;
    }
    return starts;
  };
  return {
    ctes: (first) => {
      const starts = firsts(first);
      return present.map((part, index) => part.ctes(starts[index])).join(',\n');
    },
    params: present.flatMap((part) => part.params),
    holds: (first) => {
      const starts = firsts(first);
      return present.map((part, index) => `(${part.holds(starts[index])})`).join(' AND ');
    },
    failure: [...new Set(present.map((part) => part.failure))].join('; '),
  };
}

export interface EventRowQuery {
  type?: string;
  sourceId?: string;
  conversationKey?: string;
  status?: string;
  since?: Date;
  until?: Date;
  /** Text the raw payload contains, case-insensitive. */
  text?: string;
  cursor?: string;
  /** Rows to read: the page size plus one, which tells whether another page follows. */
  take: number;
}

export interface EventBucketCount {
  bucket: Date;
  status: string;
  count: number;
}

/** The columns a list shows: everything but the raw body and the canonical JSON. */
const SUMMARY_COLUMNS = [
  'event.id',
  'event.type',
  'event.status',
  'event.error',
  'event.sourceId',
  'event.sourceKind',
  'event.sourceEvent',
  'event.conversationKey',
  'event.conversationId',
  'event.occurredAt',
  'event.receivedAt',
];

/**
 * The one owner of the `events` table's SQL. Ingest writes through it (in batches, with the
 * conversations' state in the same transaction: src/ingest/stored-event-writer.ts); the read
 * side and retention read and delete through it.
 */
@Injectable()
export class EventsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string): Promise<EventEntity | null> {
    return this.dataSource.getRepository(EventEntity).findOneBy({ id });
  }

  /**
   * What the newest events of a conversation say about it: its source, native id, and the
   * newest native contact id among them. For a conversation the router has no row for yet.
   */
  async conversationOf(key: string): Promise<ConversationSeen | null> {
    const rows = (await this.dataSource.query(
      `SELECT e.source_id, e.source_kind, e.canonical->'conversation'->>'externalId' AS external_id,
              (SELECT c.canonical->'contact'->>'externalId' FROM events c
                WHERE c.conversation_key = $1 AND c.canonical->'contact'->>'externalId' IS NOT NULL
                ORDER BY c.id DESC LIMIT 1) AS contact_external_id
         FROM events e
        WHERE e.conversation_key = $1 AND e.canonical IS NOT NULL
        ORDER BY e.id DESC LIMIT 1`,
      [key],
    )) as Record<string, string | null>[];
    const row = rows[0];
    if (!row?.external_id) return null;
    return {
      sourceId: row.source_id as string,
      sourceKind: row.source_kind as string,
      externalId: row.external_id,
      contactExternalId: row.contact_external_id,
    };
  }

  /** Newest first, without the bodies. */
  list(query: EventRowQuery): Promise<EventEntity[]> {
    const where: FindOptionsWhere<EventEntity> = {};
    if (query.type) where.type = query.type;
    if (query.sourceId) where.sourceId = query.sourceId;
    if (query.conversationKey) where.conversationKey = query.conversationKey;
    if (query.status) where.status = query.status as EventEntity['status'];
    if (query.cursor) where.id = LessThan(query.cursor);
    const builder = this.dataSource
      .getRepository(EventEntity)
      .createQueryBuilder('event')
      .select(SUMMARY_COLUMNS)
      .where(where)
      .orderBy('event.id', 'DESC')
      .take(query.take);
    if (query.since) builder.andWhere({ receivedAt: MoreThanOrEqual(query.since) });
    if (query.until) builder.andWhere('event.received_at < :until', { until: query.until });
    if (query.text) {
      builder.andWhere(`event.raw_body ILIKE :pattern ESCAPE '\\'`, {
        pattern: `%${query.text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`,
      });
    }
    return builder.getMany();
  }

  /** Events received since `since`, counted per status in buckets of `bucketSeconds`. */
  async countsPerBucket(since: Date, bucketSeconds: number): Promise<EventBucketCount[]> {
    const rows: { bucket: Date; status: string; count: string }[] = await this.dataSource.query(
      `SELECT to_timestamp(floor(extract(epoch FROM received_at) / $2) * $2) AS bucket,
              status, count(*) AS count
         FROM events WHERE received_at >= $1
        GROUP BY 1, 2`,
      [since, bucketSeconds],
    );
    return rows.map((row) => ({
      bucket: new Date(row.bucket),
      status: row.status,
      count: Number(row.count),
    }));
  }

  /**
   * A conversation's events in the source's order (occurredAt, then id), with their canonical
   * form, after the `[occurredAt, id]` given (the previous page's last).
   */
  timelineOf(
    conversationId: string,
    take: number,
    after?: { occurredAt: string; id: string },
  ): Promise<EventEntity[]> {
    const builder = this.dataSource
      .getRepository(EventEntity)
      .createQueryBuilder('event')
      .select([...SUMMARY_COLUMNS, 'event.canonical'])
      .where('event.conversation_id = :conversationId', { conversationId })
      .orderBy('event.occurred_at', 'ASC')
      .addOrderBy('event.id', 'ASC')
      .limit(take);
    if (after) {
      builder.andWhere('(event.occurred_at, event.id) > (:occurredAt, :id)', after);
    }
    return builder.getMany();
  }

  /** Events received before this time may have been purged (retention); null: none were. */
  async purgedBefore(): Promise<Date | null> {
    const rows = (await this.dataSource.query(
      `SELECT events_purged_before AS "purgedBefore" FROM retention_horizon`,
    )) as { purgedBefore: Date }[];
    return rows[0]?.purgedBefore ?? null;
  }

  /** Records that events received before `cutoff` are being purged (it only moves forward). */
  async recordPurgeHorizon(cutoff: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO retention_horizon (singleton, events_purged_before) VALUES (true, $1)
       ON CONFLICT (singleton) DO UPDATE SET events_purged_before =
         greatest(retention_horizon.events_purged_before, excluded.events_purged_before)`,
      [cutoff],
    );
  }

  /**
   * Deletes up to `limit` events received before `cutoff` (their deliveries and attempts
   * cascade), sparing those with a delivery that may still be attempted. Answers how many.
   */
  async deleteReceivedBefore(cutoff: Date, limit: number): Promise<number> {
    const [{ count }] = (await this.dataSource.query(
      `WITH doomed AS (
         SELECT e.id FROM events e
         WHERE e.received_at < $1
           AND NOT EXISTS (
             SELECT 1 FROM deliveries d
             WHERE d.event_id = e.id AND d.status IN ('pending', 'failed', 'held', 'blocked')
           )
         LIMIT $2
       ), deleted AS (
         DELETE FROM events WHERE id IN (SELECT id FROM doomed) RETURNING 1
       )
       SELECT count(*)::int AS count FROM deleted`,
      [cutoff, limit],
    )) as { count: number }[];
    return count;
  }

  /**
   * Stores events (ids distinct) and their deliveries in one statement, so the rows exist before
   * any job is queued. An ordered delivery whose lane has nothing unfinished, the first of its
   * lane in the round, starts as the head (pending): no promotion needed. Two statements racing
   * into one lane may both start a head; the later one steps back before it is sent
   * (docs/ordering.md).
   */
  async insertRound(
    manager: EntityManager,
    round: EventToStore[],
    companion?: StatementCompanion,
  ): Promise<InsertedRound> {
    const column = <T>(pick: (event: EventToStore) => T) => round.map(pick);
    const deliveries = deliveryColumns(round);
    const params: unknown[] = [
      column((event) => event.id),
      column((event) => event.sourceId),
      column((event) => event.sourceKind),
      column((event) => event.sourceEvent),
      column((event) => event.sourceDeliveryId),
      column((event) => event.type),
      column((event) => event.status),
      column((event) => event.error),
      column((event) => event.conversationKey),
      column((event) => event.occurredAt),
      column((event) => event.receivedAt),
      deliveries.ids,
      deliveries.eventIds,
      deliveries.subscriptionIds,
      column((event) => event.conversationId),
      deliveries.laneKeys,
      ...(companion ? [companion.failure, ...companion.params] : []),
    ];
    // The bodies and canonical JSON, kilobytes each, go as parameters of their own: in a text[]
    // parameter the driver escapes every quote of them in JavaScript (most of what building
    // this statement cost the worker).
    const textArray = (values: (string | null)[]) => {
      const first = params.length + 1;
      params.push(...values);
      return `ARRAY[${values.map((_, index) => `$${first + index}::text`).join(', ')}]`;
    };
    const rawBodies = textArray(column((event) => event.rawBody));
    const canonicals = textArray(column((event) => event.canonical));
    const rows = (await manager.query(
      `WITH event AS (
         INSERT INTO events (id, source_id, source_kind, source_event, source_delivery_id, type,
                             status, error, conversation_key, occurred_at, received_at, raw_body,
                             canonical, conversation_id)
         SELECT id, source_id, source_kind, source_event, source_delivery_id, type, status, error,
                conversation_key, occurred_at, received_at, raw_body, canonical::json,
                conversation_id
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                       $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[],
                       ${rawBodies}, ${canonicals}, $15::text[])
             AS i (id, source_id, source_kind, source_event, source_delivery_id, type, status,
                   error, conversation_key, occurred_at, received_at, raw_body, canonical,
                   conversation_id)
         ON CONFLICT (id) DO NOTHING
         RETURNING id
       ), delivery AS (
         -- An ordered delivery takes its place in its lane by the time the router accepted it.
         INSERT INTO deliveries (id, event_id, subscription_id, status, lane_key, lane_at)
         SELECT planned.id, planned.event_id, planned.subscription_id,
                CASE WHEN planned.lane_key IS NULL THEN 'pending'
                     WHEN row_number() OVER lane = 1 AND NOT EXISTS (
                       SELECT 1 FROM deliveries a
                        WHERE a.subscription_id = planned.subscription_id
                          AND a.lane_key = planned.lane_key AND a.lane_key IS NOT NULL
                          AND a.status IN ('held', 'pending', 'failed', 'blocked')
                     ) THEN 'pending'
                     ELSE 'held' END,
                planned.lane_key,
                CASE WHEN planned.lane_key IS NULL THEN NULL ELSE i.received_at END
           FROM unnest($12::text[], $13::text[], $14::text[], $16::text[])
             AS planned (id, event_id, subscription_id, lane_key)
           JOIN event ON event.id = planned.event_id
           JOIN unnest($1::text[], $11::timestamptz[]) AS i (id, received_at)
             ON i.id = planned.event_id
         WINDOW lane AS (PARTITION BY planned.subscription_id, planned.lane_key
                         ORDER BY i.received_at, planned.event_id, planned.id)
         RETURNING id, status, lane_key
       )${companion ? `, ${companion.ctes(18)}` : ''}
       SELECT id, NULL AS head FROM event
       UNION ALL SELECT NULL, id FROM delivery WHERE lane_key IS NOT NULL AND status = 'pending'
       ${
         companion
           ? // concat() is stable, not immutable: the planner cannot fold the failing cast.
             `UNION ALL SELECT NULL, NULL
                 WHERE NOT (CASE WHEN ${companion.holds(18)} THEN true
                                 ELSE CAST(concat($17::text) AS boolean) END)`
           : ''
       }`,
      params,
    )) as { id: string | null; head: string | null }[];
    const inserted: InsertedRound = { events: new Set(), heads: new Set() };
    for (const row of rows) {
      if (row.id !== null) inserted.events.add(row.id);
      else if (row.head !== null) inserted.heads.add(row.head);
    }
    return inserted;
  }
}

/** The round's deliveries as the statement's columns, each beside its event's id. */
function deliveryColumns(round: EventToStore[]) {
  const columns = {
    ids: [] as string[],
    eventIds: [] as string[],
    subscriptionIds: [] as string[],
    laneKeys: [] as (string | null)[],
  };
  for (const event of round) {
    for (const delivery of event.deliveries) {
      columns.ids.push(delivery.id);
      columns.eventIds.push(event.id);
      columns.subscriptionIds.push(delivery.subscriptionId);
      columns.laneKeys.push(delivery.laneKey);
    }
  }
  return columns;
}
