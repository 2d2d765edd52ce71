import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import type { CanonicalEvent, MessageDirection } from '../canonical/canonical-event';
import { newId } from '../common/ids';
import { ContactEntity, ContactIdentityEntity } from './contact.entity';
import { ConversationMessageEntity } from './conversation-message.entity';
import {
  agentKey,
  agentList,
  applyConversationEvent,
  compareStamps,
  ConversationState,
  emptyConversationState,
  MessageState,
  messagesOf,
  previewOf,
  Stamp,
} from './conversation-state';
import { ConversationEntity, LastMessagePreview } from './conversation.entity';
import type { StatementCompanion } from '../events/events.repository';
import { KindedRow, matchesQ, StatementReadPart } from './contacts.repository';
import { MessageIds, withAllIds } from './message-ids';
import { pgJson, pgText } from './pg-values';
import { preparedQuery } from '../database/prepared-query';

/** An event stored in this transaction, with the ids the resolver gave it. */
export interface EventForState {
  event: CanonicalEvent;
  conversationId: string;
  identityId: string | null;
  contactExternalId: string | null;
  /** The conversation as read when the event's ids were resolved. */
  snapshot: ConversationSnapshot | null;
}

export interface ConversationRowQuery {
  sourceId?: string;
  status?: string;
  channel?: string;
  assignee?: string;
  contactId?: string;
  label?: string;
  since?: Date;
  until?: Date;
  q?: string;
  /** `<lastActivityAt ISO>|<id>` of the previous page's last row. */
  after?: { lastActivityAt: string; id: string };
  take: number;
}

interface ConversationStateRow {
  id: string;
  status: ConversationState['status'];
  ended_at: Date | string | null;
  channel: ConversationState['channel'];
  team: ConversationState['team'];
  assignee: ConversationState['assignee'];
  agents: ConversationState['assignee'][];
  labels: string[];
  rating: ConversationState['rating'];
  attributes: Record<string, unknown>;
  started_at: Date | string | null;
  contact_identity_id: string | null;
  contact_external_id: string | null;
  first_activity_at: Date | string | null;
  last_activity_at: Date | string | null;
  messages_inbound: number;
  messages_outbound: number;
  messages_internal: number;
  field_stamps: { fields?: ConversationState['stamps']; agents?: Record<string, Stamp> };
  last_message: LastMessagePreview | null;
  state_version: string;
}

interface MessageRow {
  conversation_id: string;
  external_id: string;
  direction: MessageDirection | null;
  kind: MessageState['kind'];
  text: string | null;
  attachments: MessageState['attachments'];
  sender: MessageState['sender'];
  created_at: Date | string | null;
  private: boolean;
  deleted: boolean;
  status: MessageState['status'];
  first_seen_at: Date | string;
  field_stamps: MessageState['stamps'];
}

/** A time read from a row, or from a row turned to JSON (json_agg) where it is a string. */
const iso = (value: Date | string | null) => (value ? new Date(value).toISOString() : null);

/** A time as a read gives it back (`iso`), with no parsing when it is in that form already. */
function isoAsRead(value: string | null): string | null {
  return value === null || (value.length === 24 && value[19] === '.' && value[23] === 'Z')
    ? value
    : iso(value);
}

/** A state as a read of the row it is written to gives it back (its times). */
function asRead(state: ConversationState): ConversationState {
  const endedAt = isoAsRead(state.endedAt);
  const startedAt = isoAsRead(state.startedAt);
  const firstActivityAt = isoAsRead(state.firstActivityAt);
  const lastActivityAt = isoAsRead(state.lastActivityAt);
  return endedAt === state.endedAt &&
    startedAt === state.startedAt &&
    firstActivityAt === state.firstActivityAt &&
    lastActivityAt === state.lastActivityAt
    ? state
    : { ...state, endedAt, startedAt, firstActivityAt, lastActivityAt };
}

/** Messages as a read gives them back (their times), changed in place. */
function messagesAsRead(messages: Map<string, MessageState>): Map<string, MessageState> {
  for (const [externalId, message] of messages) {
    const createdAt = isoAsRead(message.createdAt);
    const firstSeenAt = isoAsRead(message.firstSeenAt)!;
    if (createdAt !== message.createdAt || firstSeenAt !== message.firstSeenAt) {
      messages.set(externalId, { ...message, createdAt, firstSeenAt });
    }
  }
  return messages;
}

/**
 * A conversation companionFor applies events to: its snapshot's messages are shared until an
 * event touches one (or another snapshot of the same version adds some), then copied.
 */
interface PlannedConversation {
  snapshot: ConversationSnapshot;
  state: ConversationState;
  messages: Map<string, MessageState>;
  ownMessages: boolean;
  /** The messages the events changed, by native id, each as it is after them. */
  touched: Map<string, MessageState> | null;
}

function ownedMessages(plan: PlannedConversation): Map<string, MessageState> {
  if (!plan.ownMessages) {
    plan.messages = new Map(plan.messages);
    plan.ownMessages = true;
  }
  return plan.messages;
}

/**
 * The error text of a write whose conversation moved since it was read, or was inserted by
 * another worker after a read that found none.
 */
export const CHANGED_CONCURRENTLY = 'conversation state changed concurrently';

/** The columns a conversation's state is read from. */
const STATE_COLUMNS = [
  'id',
  'status',
  'ended_at',
  'channel',
  'team',
  'assignee',
  'agents',
  'labels',
  'rating',
  'attributes',
  'started_at',
  'contact_identity_id',
  'contact_external_id',
  'first_activity_at',
  'last_activity_at',
  'messages_inbound',
  'messages_outbound',
  'messages_internal',
  'field_stamps',
  'last_message',
  'state_version',
];

/** A conversation's state as read, with the messages the events to apply will touch. */
export interface ConversationSnapshot {
  id: string;
  version: string;
  state: ConversationState;
  lastMessage: LastMessagePreview | null;
  messages: Map<string, MessageState>;
  /**
   * The native ids of every message stored at this version, when there are at most
   * MESSAGE_IDS_LISTED; null when not known. A message carried by an event that is neither in
   * `messages` nor here is not stored.
   */
  storedMessageIds: MessageIds | null;
  /**
   * Not stored yet: the read found no row for the key and planned this one, which the event's
   * statement inserts with its state (companionFor). Null once stored.
   */
  toInsert: ConversationToInsert | null;
}

/** What a conversation's row is keyed by, beside its state. */
export interface ConversationToInsert {
  key: string;
  sourceId: string;
  sourceKind: string;
  externalId: string;
}

/** A conversation an event belongs to, as the read asks for it. */
export interface ConversationToRead extends ConversationToInsert {
  /** The native ids of the messages the events carry (their stored states are read). */
  messageIds: string[];
}

/** The read's CTE that makes an empty row for each key with none (snapshotsOfKeys). */
const INSERT_MISSING = `inserted AS (
  INSERT INTO conversations (id, key, source_id, source_kind, external_id)
  SELECT id, key, source_id, source_kind, external_id FROM input ORDER BY key
  ON CONFLICT (key) DO NOTHING
  RETURNING id, key
)`;

/** A row made now holds its columns' defaults, the empty state: only its id comes back. */
const MADE_ROWS = `SELECT 'conversation' AS kind, NULL::int AS idx,
       jsonb_build_object('id', id, 'key', key, 'made', true) AS row
  FROM inserted`;

/** A conversation read lists its messages' ids up to this many (what a worker remembers). */
export const MESSAGE_IDS_LISTED = 500;

/** The one owner of the conversations tables' SQL (conversations and their messages). */
@Injectable()
export class ConversationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string): Promise<ConversationEntity | null> {
    return this.dataSource.getRepository(ConversationEntity).findOneBy({ id });
  }

  findByKey(key: string): Promise<ConversationEntity | null> {
    return this.dataSource.getRepository(ConversationEntity).findOneBy({ key });
  }

  findContactById(id: string): Promise<ContactEntity | null> {
    return this.dataSource.getRepository(ContactEntity).findOneBy({ id });
  }

  identitiesOfContact(contactId: string): Promise<ContactIdentityEntity[]> {
    return this.dataSource
      .getRepository(ContactIdentityEntity)
      .find({ where: { contactId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** The conversations of a contact, newest activity first. */
  ofContact(contactId: string, take = 100): Promise<ConversationEntity[]> {
    return this.dataSource.getRepository(ConversationEntity).find({
      where: { contactId },
      order: { lastActivityAt: { direction: 'DESC', nulls: 'LAST' }, id: 'DESC' },
      take,
    });
  }

  messagesOf(conversationId: string): Promise<ConversationMessageEntity[]> {
    return this.dataSource.getRepository(ConversationMessageEntity).query(
      `SELECT conversation_id AS "conversationId", external_id AS "externalId", direction, kind,
              text, attachments, sender, created_at AS "createdAt", private, deleted, status,
              first_seen_at AS "firstSeenAt", field_stamps AS "fieldStamps"
         FROM conversation_messages WHERE conversation_id = $1
        ORDER BY coalesce(created_at, first_seen_at), external_id LIMIT 5000`,
      [conversationId],
    ) as Promise<ConversationMessageEntity[]>;
  }

  /**
   * The state of each conversation key (the row made on first sight, or planned), with the
   * stored messages the events will touch: what the events are applied to when they are
   * stored. A row another worker is making at the same moment shows after its commit: asked
   * again then. `with`, a read of another owner, goes in the same statement (one round trip
   * for the worker).
   */
  async snapshotsOfKeys<T = undefined>(
    conversations: ConversationToRead[],
    withRead?: StatementReadPart<T>,
    /**
     * A key with no row gets one planned (`toInsert`), which the events' statement inserts
     * with its state, instead of an empty row inserted now and updated then.
     */
    planMissing = false,
  ): Promise<{ snapshots: Map<string, ConversationSnapshot>; read: T | undefined }> {
    const snapshots = new Map<string, ConversationSnapshot>();
    const byKey = new Map<string, (typeof conversations)[number]>();
    for (const row of conversations) {
      const known = byKey.get(row.key);
      byKey.set(
        row.key,
        known ? { ...known, messageIds: [...known.messageIds, ...row.messageIds] } : row,
      );
    }
    let read: T | undefined;
    let missing = [...byKey.values()];
    for (let attempt = 0; missing.length > 0 && attempt < 5; attempt++) {
      const other = attempt === 0 ? withRead : undefined;
      const ids = missing.map(() => newId('conv'));
      const rows = await preparedQuery<KindedRow>(
        this.dataSource,
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                                $6::text[])
             AS i (id, key, source_id, source_kind, external_id, message_ids)
         )${planMissing ? '' : `, ${INSERT_MISSING}`}${other ? `, ${other.ctes(7)}` : ''}
         ${planMissing ? '' : `${MADE_ROWS} UNION ALL`}
         SELECT 'conversation' AS kind, NULL::int AS idx, to_jsonb(state) AS row
           FROM (SELECT ${STATE_COLUMNS.map((column) => `c.${column}`).join(', ')}, c.key,
                        (SELECT coalesce(json_agg(m), '[]') FROM conversation_messages m
                          WHERE m.conversation_id = c.id
                            AND m.external_id IN
                                (SELECT jsonb_array_elements_text(input.message_ids::jsonb)))
                          AS messages,
                        (SELECT json_agg(listed.external_id)
                           FROM (SELECT m.external_id FROM conversation_messages m
                                  WHERE m.conversation_id = c.id
                                  LIMIT ${MESSAGE_IDS_LISTED + 1}) listed) AS message_ids
                   FROM input
                   CROSS JOIN LATERAL (SELECT * FROM conversations c WHERE c.key = input.key
                                        LIMIT 1) c) state
         ${other ? `UNION ALL ${other.sql(7)}` : ''}`,
        [
          ids,
          missing.map((row) => row.key),
          missing.map((row) => row.sourceId),
          missing.map((row) => row.sourceKind),
          missing.map((row) => pgText(row.externalId)),
          missing.map((row) => JSON.stringify(row.messageIds)),
          ...(other ? other.params : []),
        ],
      );
      if (other) read = other.read(rows);
      for (const { kind, row } of rows) {
        if (kind !== 'conversation') continue;
        const state = row as unknown as
          | (ConversationStateRow & {
              key: string;
              messages: MessageRow[];
              message_ids: string[] | null;
              made?: undefined;
            })
          | { id: string; key: string; made: true };
        snapshots.set(
          state.key,
          state.made
            ? madeSnapshot(state.id)
            : snapshotOfRow(
                state,
                state.messages,
                (state.message_ids?.length ?? 0) <= MESSAGE_IDS_LISTED
                  ? new Set(state.message_ids ?? [])
                  : null,
              ),
        );
      }
      if (planMissing) {
        missing.forEach((row, index) => {
          if (!snapshots.has(row.key)) snapshots.set(row.key, plannedSnapshot(ids[index], row));
        });
      }
      missing = missing.filter((row) => !snapshots.has(row.key));
    }
    return { snapshots, read };
  }

  /** The same, read again under a row lock (in id order), inside a transaction. */
  async lockedSnapshots(
    manager: EntityManager,
    items: EventForState[],
  ): Promise<Map<string, ConversationSnapshot>> {
    const ids = [...new Set(items.map((item) => item.conversationId))].sort();
    const rows = (await manager.query(
      `SELECT ${STATE_COLUMNS.join(', ')} FROM conversations
        WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [ids],
    )) as ConversationStateRow[];
    const messageKeys = items.flatMap((item) =>
      messagesOf(item.event).map((message) => [item.conversationId, message.externalId]),
    );
    const messages =
      messageKeys.length === 0
        ? []
        : ((await manager.query(
            `SELECT * FROM conversation_messages
              WHERE (conversation_id, external_id) IN
                    (SELECT * FROM unnest($1::text[], $2::text[]))`,
            [messageKeys.map((key) => key[0]), messageKeys.map((key) => key[1])],
          )) as MessageRow[]);
    return new Map(
      rows.map((row) => [
        row.id,
        snapshotOfRow(
          row,
          messages.filter((message) => message.conversation_id === row.id),
          null,
        ),
      ]),
    );
  }

  /**
   * The writes that apply `items` to the snapshots they were resolved with, as a companion of
   * the events' insert statement: each conversation is written only if its version has not
   * moved since the snapshot, else the whole statement fails (and the caller applies the
   * events again under a row lock). A conversation the read planned (`toInsert`) is inserted
   * with its state; if another worker inserted its key meanwhile, the statement fails too
   * (and the caller resolves its events again). Undefined: nothing to write. Applying an event twice
   * changes nothing (docs/conversations.md), so a retried job may be applied again safely.
   * `after` receives each conversation as it is once the statement is written.
   */
  companionFor(
    items: EventForState[],
    snapshots: (item: EventForState) => ConversationSnapshot | undefined,
    after?: Map<string, ConversationSnapshot>,
  ): StatementCompanion | undefined | 'stale' {
    const planned = new Map<string, PlannedConversation>();
    for (const item of items) {
      const snapshot = snapshots(item);
      if (!snapshot) continue;
      const known = planned.get(item.conversationId);
      if (!known) {
        planned.set(item.conversationId, {
          snapshot,
          state: snapshot.state,
          messages: snapshot.messages,
          ownMessages: false,
          touched: null,
        });
      } else if (known.snapshot.version !== snapshot.version) return 'stale';
      else if (known.snapshot !== snapshot) {
        for (const [id, message] of snapshot.messages) {
          if (!known.messages.has(id)) ownedMessages(known).set(id, message);
        }
      }
    }
    for (const item of items) {
      const plan = planned.get(item.conversationId);
      if (!plan) continue;
      const contact = item.identityId
        ? { identityId: item.identityId, externalId: item.contactExternalId }
        : null;
      const applied = applyConversationEvent(plan.state, plan.messages, item.event, contact);
      plan.state = applied.state;
      if (applied.messages.length === 0) continue;
      const messages = ownedMessages(plan);
      plan.touched ??= new Map();
      for (const message of applied.messages) {
        // Newest touched last: what a worker remembers of a conversation keeps the newest.
        messages.delete(message.externalId);
        messages.set(message.externalId, message);
        plan.touched.set(message.externalId, message);
      }
    }
    const stateRows: StateRow[] = [];
    const newRows: InsertRow[] = [];
    const messageRows: ReturnType<typeof messageRowOf>[] = [];
    for (const [id, plan] of planned) {
      const { snapshot } = plan;
      if (plan.state === snapshot.state && snapshot.toInsert === null) {
        after?.set(id, plan.ownMessages ? { ...snapshot, messages: plan.messages } : snapshot);
        continue;
      }
      const touched = plan.touched ? [...plan.touched.values()] : [];
      const row = stateRowOf(
        id,
        plan.state,
        snapshot.version,
        lastMessageAfter(snapshot.lastMessage, touched),
      );
      if (snapshot.toInsert) newRows.push(insertRowOf(row, snapshot.toInsert));
      else stateRows.push(row);
      for (const message of touched) messageRows.push(messageRowOf(id, message));
      after?.set(id, {
        id,
        version: String(Number(snapshot.version) + 1),
        state: asRead(plan.state),
        lastMessage: row.last_message,
        // Messages read or remembered are in that form already; only new ones are changed.
        messages: plan.ownMessages ? messagesAsRead(plan.messages) : plan.messages,
        // Every message of the snapshot is stored once the statement is.
        storedMessageIds: withAllIds(snapshot.storedMessageIds, plan.messages.keys()),
        toInsert: null,
      });
    }
    if (stateRows.length === 0 && newRows.length === 0) return undefined;
    // Conversations are locked in id order (conversation_locked, whatever plan the update gets)
    // and messages upserted in key order, as every other batch's statement and lockedSnapshots
    // take them: in the batch's order, or the table's, two statements could deadlock.
    messageRows.sort(
      (a, b) =>
        compareText(a.conversation_id, b.conversation_id) ||
        compareText(a.external_id, b.external_id),
    );
    return {
      ctes: (first) => `
        conversation_locked AS MATERIALIZED (
          SELECT c.id FROM conversations c
           WHERE c.id = ANY($${first + 3}::text[])
           ORDER BY c.id FOR UPDATE
        ), conversation_state AS (
          UPDATE conversations c SET
            status = s.status, ended_at = s.ended_at, channel = s.channel,
            channel_type = s.channel->>'type', team = s.team, assignee = s.assignee,
            assignee_external_id = s.assignee->>'externalId', agents = s.agents,
            labels = s.labels, rating = s.rating, attributes = s.attributes,
            started_at = s.started_at, contact_identity_id = s.contact_identity_id,
            contact_external_id = s.contact_external_id,
            contact_id = (SELECT i.contact_id FROM contact_identities i
                           WHERE i.id = s.contact_identity_id),
            first_activity_at = s.first_activity_at, last_activity_at = s.last_activity_at,
            messages_inbound = s.messages_inbound, messages_outbound = s.messages_outbound,
            messages_internal = s.messages_internal, field_stamps = s.field_stamps,
            last_message = s.last_message, state_version = c.state_version + 1,
            updated_at = now()
           FROM jsonb_to_recordset($${first}::jsonb) AS s (
             id text, expected_version bigint, status text, ended_at timestamptz,
             channel jsonb, team jsonb, assignee jsonb, agents jsonb, labels text[],
             rating text, attributes jsonb, started_at timestamptz, contact_identity_id text,
             contact_external_id text, first_activity_at timestamptz,
             last_activity_at timestamptz, messages_inbound int, messages_outbound int,
             messages_internal int, field_stamps jsonb, last_message jsonb)
           JOIN conversation_locked l ON l.id = s.id
          WHERE c.id = s.id AND c.state_version = s.expected_version
          RETURNING c.id
        ), conversation_new AS (
          -- A conversation the read found no row for, inserted once with its state; a key
          -- another worker inserted meanwhile is not, and the statement fails.
          INSERT INTO conversations (id, key, source_id, source_kind, external_id, status,
                                     ended_at, channel, channel_type, team, assignee,
                                     assignee_external_id, agents, labels, rating, attributes,
                                     started_at, contact_identity_id, contact_external_id,
                                     contact_id, first_activity_at, last_activity_at,
                                     messages_inbound, messages_outbound, messages_internal,
                                     field_stamps, last_message, state_version)
          SELECT s.id, s.key, s.source_id, s.source_kind, s.external_id, s.status, s.ended_at,
                 s.channel, s.channel->>'type', s.team, s.assignee, s.assignee->>'externalId',
                 s.agents, s.labels, s.rating, s.attributes, s.started_at,
                 s.contact_identity_id, s.contact_external_id,
                 (SELECT i.contact_id FROM contact_identities i
                   WHERE i.id = s.contact_identity_id),
                 s.first_activity_at, s.last_activity_at, s.messages_inbound,
                 s.messages_outbound, s.messages_internal, s.field_stamps, s.last_message,
                 s.expected_version + 1
            FROM jsonb_to_recordset($${first + 4}::jsonb) AS s (
              id text, key text, source_id text, source_kind text, external_id text,
              expected_version bigint, status text, ended_at timestamptz, channel jsonb,
              team jsonb, assignee jsonb, agents jsonb, labels text[], rating text,
              attributes jsonb, started_at timestamptz, contact_identity_id text,
              contact_external_id text, first_activity_at timestamptz,
              last_activity_at timestamptz, messages_inbound int, messages_outbound int,
              messages_internal int, field_stamps jsonb, last_message jsonb)
           ORDER BY s.key
          ON CONFLICT (key) DO NOTHING
          RETURNING id
        ), conversation_message AS (
          INSERT INTO conversation_messages (conversation_id, external_id, direction, kind,
                                             text, attachments, sender, created_at, private,
                                             deleted, status, first_seen_at, field_stamps)
          SELECT conversation_id, external_id, direction, kind, text, attachments, sender,
                 created_at, private, deleted, status, first_seen_at, field_stamps
            FROM jsonb_to_recordset($${first + 1}::jsonb) AS m (
              conversation_id text, external_id text, direction text, kind text, text text,
              attachments jsonb, sender jsonb, created_at timestamptz, private boolean,
              deleted boolean, status text, first_seen_at timestamptz, field_stamps jsonb)
          ON CONFLICT (conversation_id, external_id) DO UPDATE SET
            direction = excluded.direction, kind = excluded.kind, text = excluded.text,
            attachments = excluded.attachments, sender = excluded.sender,
            created_at = excluded.created_at, private = excluded.private,
            deleted = excluded.deleted, status = excluded.status,
            first_seen_at = excluded.first_seen_at, field_stamps = excluded.field_stamps
        )`,
      params: [
        pgJson(stateRows),
        pgJson(messageRows),
        stateRows.length,
        stateRows.map((row) => row.id),
        pgJson(newRows),
        newRows.length,
      ],
      holds: (first) =>
        `(SELECT count(*) FROM conversation_state) = $${first + 2}
         AND (SELECT count(*) FROM conversation_new) = $${first + 5}`,
      failure: CHANGED_CONCURRENTLY,
    };
  }

  /** Newest activity first (keyset on last_activity_at, id), filtered. */
  async list(query: ConversationRowQuery): Promise<ConversationEntity[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `:p${params.length}`;
    };
    if (query.sourceId) where.push(`c.source_id = ${param(query.sourceId)}`);
    if (query.status) where.push(`c.status = ${param(query.status)}`);
    if (query.channel) where.push(`c.channel_type = ${param(query.channel)}`);
    if (query.assignee) where.push(`c.assignee_external_id = ${param(query.assignee)}`);
    if (query.contactId) where.push(`c.contact_id = ${param(query.contactId)}`);
    if (query.label) where.push(`c.labels @> ARRAY[${param(query.label)}]::text[]`);
    if (query.since) where.push(`c.last_activity_at >= ${param(query.since)}`);
    if (query.until) where.push(`c.last_activity_at < ${param(query.until)}`);
    if (query.q) {
      where.push(
        `c.contact_id IN (SELECT i.contact_id FROM contact_identities i WHERE ${matchesQ('i', query.q, param)})`,
      );
    }
    // A conversation shows once an event of it is stored (it has activity from then on).
    where.push('c.last_activity_at IS NOT NULL');
    if (query.after) {
      // One row comparison, which the (last_activity_at DESC, id DESC) index answers.
      where.push(
        `(c.last_activity_at, c.id) < (${param(query.after.lastActivityAt)}::timestamptz, ${param(query.after.id)})`,
      );
    }
    return this.dataSource
      .getRepository(ConversationEntity)
      .createQueryBuilder('c')
      .where(where.length > 0 ? where.join(' AND ') : 'true', paramsByName(params))
      .orderBy('c.last_activity_at', 'DESC', 'NULLS LAST')
      .addOrderBy('c.id', 'DESC')
      .limit(query.take)
      .getMany();
  }
}

/** TypeORM's query builder takes named parameters: `$1` becomes `:p1`. */
function paramsByName(params: unknown[]): Record<string, unknown> {
  return Object.fromEntries(params.map((value, index) => [`p${index + 1}`, value]));
}

function stateOfRow(row: ConversationStateRow): ConversationState {
  const stamps = row.field_stamps ?? {};
  const agentStamps = stamps.agents ?? {};
  const agents: ConversationState['agents'] = {};
  for (const agent of row.agents ?? []) {
    if (!agent) continue;
    const key = agentKey(agent);
    agents[key] = { agent, stamp: agentStamps[key] ?? ['', ''] };
  }
  return {
    ...emptyConversationState(),
    status: row.status,
    endedAt: iso(row.ended_at),
    channel: row.channel,
    team: row.team,
    assignee: row.assignee,
    agents,
    labels: row.labels ?? [],
    rating: row.rating,
    attributes: row.attributes ?? {},
    startedAt: iso(row.started_at),
    contact: row.contact_identity_id
      ? { identityId: row.contact_identity_id, externalId: row.contact_external_id }
      : null,
    firstActivityAt: iso(row.first_activity_at),
    lastActivityAt: iso(row.last_activity_at),
    counts: {
      inbound: row.messages_inbound,
      outbound: row.messages_outbound,
      internal: row.messages_internal,
    },
    stamps: stamps.fields ?? {},
  };
}

function messageOfRow(row: MessageRow): MessageState {
  return {
    externalId: row.external_id,
    direction: row.direction,
    kind: row.kind,
    text: row.text,
    attachments: row.attachments ?? [],
    sender: row.sender,
    createdAt: iso(row.created_at),
    private: row.private,
    deleted: row.deleted,
    status: row.status,
    firstSeenAt: iso(row.first_seen_at)!,
    stamps: row.field_stamps ?? {},
  };
}

/** A row just inserted: its columns' defaults are the empty state, at version 0. */
export function madeSnapshot(id: string): ConversationSnapshot {
  return plannedSnapshot(id, null);
}

/** A conversation not stored yet (`row`: inserted by the events' statement), at version 0. */
export function plannedSnapshot(
  id: string,
  row: ConversationToInsert | null,
): ConversationSnapshot {
  return {
    id,
    version: '0',
    state: emptyConversationState(),
    lastMessage: null,
    messages: new Map(),
    storedMessageIds: new Set(),
    toInsert: row
      ? {
          key: row.key,
          sourceId: row.sourceId,
          sourceKind: row.sourceKind,
          externalId: row.externalId,
        }
      : null,
  };
}

function snapshotOfRow(
  row: ConversationStateRow,
  messages: MessageRow[],
  storedMessageIds: ReadonlySet<string> | null,
): ConversationSnapshot {
  return {
    storedMessageIds,
    id: row.id,
    version: String(row.state_version),
    state: stateOfRow(row),
    lastMessage: row.last_message,
    messages: new Map(messages.map((message) => [message.external_id, messageOfRow(message)])),
    toInsert: null,
  };
}

function stateRowOf(
  id: string,
  state: ConversationState,
  expectedVersion: string,
  lastMessage: LastMessagePreview | null,
) {
  const agentStamps: Record<string, Stamp> = {};
  for (const key in state.agents) agentStamps[key] = state.agents[key].stamp;
  return {
    id,
    expected_version: expectedVersion,
    status: state.status,
    ended_at: state.endedAt,
    channel: state.channel,
    team: state.team,
    assignee: state.assignee,
    agents: agentList(state),
    labels: state.labels,
    rating: state.rating,
    attributes: state.attributes,
    started_at: state.startedAt,
    contact_identity_id: state.contact?.identityId ?? null,
    contact_external_id: state.contact?.externalId ?? null,
    first_activity_at: state.firstActivityAt,
    last_activity_at: state.lastActivityAt,
    messages_inbound: state.counts.inbound,
    messages_outbound: state.counts.outbound,
    messages_internal: state.counts.internal,
    field_stamps: { fields: state.stamps, agents: agentStamps },
    last_message: lastMessage,
  };
}

type StateRow = ReturnType<typeof stateRowOf>;

type InsertRow = StateRow & {
  key: string;
  source_id: string;
  source_kind: string;
  external_id: string;
};

/** The row with the columns a new conversation is keyed by, added in place (no copy). */
function insertRowOf(row: StateRow, toInsert: ConversationToInsert): InsertRow {
  const insert = row as StateRow & Partial<InsertRow>;
  insert.key = toInsert.key;
  insert.source_id = toInsert.sourceId;
  insert.source_kind = toInsert.sourceKind;
  insert.external_id = toInsert.externalId;
  return insert as InsertRow;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageRowOf(conversationId: string, message: MessageState) {
  return {
    conversation_id: conversationId,
    external_id: message.externalId,
    direction: message.direction,
    kind: message.kind,
    text: message.text,
    attachments: message.attachments,
    sender: message.sender,
    created_at: message.createdAt,
    private: message.private,
    deleted: message.deleted,
    status: message.status,
    first_seen_at: message.firstSeenAt,
    field_stamps: message.stamps,
  };
}

/**
 * The last message once `touched` are written: the stored one or a touched one, whichever is
 * newest by [createdAt (else first seen), native id], as lastMessageOf decides over all.
 */
function lastMessageAfter(
  stored: LastMessagePreview | null,
  touched: MessageState[],
): LastMessagePreview | null {
  const candidates: { order: Stamp; preview: LastMessagePreview }[] = [];
  if (stored && !touched.some((message) => message.externalId === stored.externalId)) {
    candidates.push({
      order: [stored.createdAt ? new Date(stored.createdAt).toISOString() : '', stored.externalId],
      preview: stored,
    });
  }
  for (const message of touched) {
    const preview = previewOf(message);
    candidates.push({ order: [preview.createdAt ?? '', message.externalId], preview });
  }
  let last: (typeof candidates)[number] | null = null;
  for (const candidate of candidates) {
    if (!last || compareStamps(candidate.order, last.order) > 0) last = candidate;
  }
  return last?.preview ?? null;
}
