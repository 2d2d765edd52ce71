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
  ConversationState,
  emptyConversationState,
  MessageState,
  messagesOf,
  Stamp,
} from './conversation-state';
import { ConversationEntity } from './conversation.entity';
import { matchesQ } from './contacts.repository';
import { pgJson, pgText } from './pg-values';

/** An event stored in this transaction, with the ids the resolver gave it. */
export interface EventForState {
  event: CanonicalEvent;
  conversationId: string;
  identityId: string | null;
  contactExternalId: string | null;
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
  after?: { lastActivityAt: string | null; id: string };
  take: number;
}

interface ConversationStateRow {
  id: string;
  status: ConversationState['status'];
  ended_at: Date | null;
  channel: ConversationState['channel'];
  team: ConversationState['team'];
  assignee: ConversationState['assignee'];
  agents: ConversationState['assignee'][];
  labels: string[];
  rating: ConversationState['rating'];
  attributes: Record<string, unknown>;
  started_at: Date | null;
  contact_identity_id: string | null;
  contact_external_id: string | null;
  first_activity_at: Date | null;
  last_activity_at: Date | null;
  messages_inbound: number;
  messages_outbound: number;
  messages_internal: number;
  field_stamps: { fields?: ConversationState['stamps']; agents?: Record<string, Stamp> };
}

interface MessageRow {
  conversation_id: string;
  external_id: string;
  direction: MessageDirection | null;
  kind: MessageState['kind'];
  text: string | null;
  attachments: MessageState['attachments'];
  sender: MessageState['sender'];
  created_at: Date | null;
  private: boolean;
  deleted: boolean;
  status: MessageState['status'];
  first_seen_at: Date;
  field_stamps: MessageState['stamps'];
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

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
   * The id of each conversation key, the row made on first sight. A row another worker is
   * making at the same moment shows after its commit: asked again then.
   */
  async idsOfKeys(
    conversations: { key: string; sourceId: string; sourceKind: string; externalId: string }[],
  ): Promise<Map<string, string>> {
    const ids = new Map<string, string>();
    let missing = [...new Map(conversations.map((row) => [row.key, row])).values()];
    for (let attempt = 0; missing.length > 0 && attempt < 5; attempt++) {
      const rows = (await this.dataSource.query(
        `WITH input AS (
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
             AS i (id, key, source_id, source_kind, external_id)
         ), inserted AS (
           INSERT INTO conversations (id, key, source_id, source_kind, external_id)
           SELECT id, key, source_id, source_kind, external_id FROM input ORDER BY key
           ON CONFLICT (key) DO NOTHING
           RETURNING id, key
         )
         SELECT id, key FROM inserted
         UNION ALL
         SELECT c.id, c.key FROM conversations c JOIN input ON input.key = c.key`,
        [
          missing.map(() => newId('conv')),
          missing.map((row) => row.key),
          missing.map((row) => row.sourceId),
          missing.map((row) => row.sourceKind),
          missing.map((row) => pgText(row.externalId)),
        ],
      )) as { id: string; key: string }[];
      for (const row of rows) ids.set(row.key, row.id);
      missing = missing.filter((row) => !ids.has(row.key));
    }
    return ids;
  }

  /**
   * Applies stored events to their conversations, in the transaction that stored them: the
   * rows are locked (in id order, so two batches never wait on each other in a circle), the
   * rules of conversation-state.ts run, and what changed is written back.
   */
  async applyEvents(manager: EntityManager, items: EventForState[]): Promise<void> {
    if (items.length === 0) return;
    const ids = [...new Set(items.map((item) => item.conversationId))];
    const rows = (await manager.query(
      `SELECT id, status, ended_at, channel, team, assignee, agents, labels, rating, attributes,
              started_at, contact_identity_id, contact_external_id, first_activity_at,
              last_activity_at, messages_inbound, messages_outbound, messages_internal,
              field_stamps
         FROM conversations WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [ids],
    )) as ConversationStateRow[];
    const states = new Map(rows.map((row) => [row.id, stateOfRow(row)]));

    const messageKeys = items.flatMap((item) =>
      messagesOf(item.event).map((message) => [item.conversationId, message.externalId]),
    );
    const messages = new Map<string, Map<string, MessageState>>();
    if (messageKeys.length > 0) {
      const stored = (await manager.query(
        `SELECT * FROM conversation_messages
          WHERE (conversation_id, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [messageKeys.map((key) => key[0]), messageKeys.map((key) => key[1])],
      )) as MessageRow[];
      for (const row of stored)
        messagesIn(messages, row.conversation_id).set(row.external_id, messageOfRow(row));
    }

    const changedConversations = new Set<string>();
    const touchedMessages = new Map<string, MessageState & { conversationId: string }>();
    for (const item of items) {
      const state = states.get(item.conversationId);
      if (!state) continue;
      const known = messagesIn(messages, item.conversationId);
      const contact = item.identityId
        ? { identityId: item.identityId, externalId: item.contactExternalId }
        : null;
      const applied = applyConversationEvent(state, known, item.event, contact);
      if (applied.state === state) continue;
      states.set(item.conversationId, applied.state);
      changedConversations.add(item.conversationId);
      for (const message of applied.messages) {
        known.set(message.externalId, message);
        touchedMessages.set(`${item.conversationId}\u0000${message.externalId}`, {
          ...message,
          conversationId: item.conversationId,
        });
      }
    }
    if (touchedMessages.size > 0) await this.writeMessages(manager, [...touchedMessages.values()]);
    if (changedConversations.size > 0) {
      await this.writeStates(
        manager,
        [...changedConversations].map((id) => ({ id, state: states.get(id)! })),
        new Set([...touchedMessages.values()].map((message) => message.conversationId)),
      );
    }
  }

  private async writeMessages(
    manager: EntityManager,
    messages: (MessageState & { conversationId: string })[],
  ): Promise<void> {
    await manager.query(
      `INSERT INTO conversation_messages (conversation_id, external_id, direction, kind, text,
                                          attachments, sender, created_at, private, deleted,
                                          status, first_seen_at, field_stamps)
       SELECT conversation_id, external_id, direction, kind, text, attachments, sender,
              created_at, private, deleted, status, first_seen_at, field_stamps
         FROM jsonb_to_recordset($1::jsonb) AS m (
           conversation_id text, external_id text, direction text, kind text, text text,
           attachments jsonb, sender jsonb, created_at timestamptz, private boolean,
           deleted boolean, status text, first_seen_at timestamptz, field_stamps jsonb)
       ON CONFLICT (conversation_id, external_id) DO UPDATE SET
         direction = excluded.direction, kind = excluded.kind, text = excluded.text,
         attachments = excluded.attachments, sender = excluded.sender,
         created_at = excluded.created_at, private = excluded.private,
         deleted = excluded.deleted, status = excluded.status,
         first_seen_at = excluded.first_seen_at, field_stamps = excluded.field_stamps`,
      [
        pgJson(
          messages.map((message) => ({
            conversation_id: message.conversationId,
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
          })),
        ),
      ],
    );
  }

  private async writeStates(
    manager: EntityManager,
    states: { id: string; state: ConversationState }[],
    withNewMessages: Set<string>,
  ): Promise<void> {
    await manager.query(
      `UPDATE conversations c SET
         status = s.status, ended_at = s.ended_at, channel = s.channel,
         channel_type = s.channel->>'type', team = s.team, assignee = s.assignee,
         assignee_external_id = s.assignee->>'externalId', agents = s.agents, labels = s.labels,
         rating = s.rating, attributes = s.attributes, started_at = s.started_at,
         contact_identity_id = s.contact_identity_id,
         contact_external_id = s.contact_external_id,
         contact_id = (SELECT i.contact_id FROM contact_identities i
                        WHERE i.id = s.contact_identity_id),
         first_activity_at = s.first_activity_at, last_activity_at = s.last_activity_at,
         messages_inbound = s.messages_inbound, messages_outbound = s.messages_outbound,
         messages_internal = s.messages_internal, field_stamps = s.field_stamps,
         last_message = CASE WHEN s.new_messages THEN (
           SELECT jsonb_build_object('externalId', m.external_id, 'direction', m.direction,
                    'text', left(m.text, 200), 'createdAt', coalesce(m.created_at, m.first_seen_at),
                    'senderName', m.sender->>'name', 'deleted', m.deleted)
             FROM conversation_messages m WHERE m.conversation_id = c.id
            ORDER BY coalesce(m.created_at, m.first_seen_at) DESC, m.external_id DESC LIMIT 1
         ) ELSE c.last_message END,
         updated_at = now()
        FROM jsonb_to_recordset($1::jsonb) AS s (
          id text, status text, ended_at timestamptz, channel jsonb, team jsonb, assignee jsonb,
          agents jsonb, labels text[], rating text, attributes jsonb, started_at timestamptz,
          contact_identity_id text, contact_external_id text, first_activity_at timestamptz,
          last_activity_at timestamptz, messages_inbound int, messages_outbound int,
          messages_internal int, field_stamps jsonb, new_messages boolean)
       WHERE c.id = s.id`,
      [
        pgJson(
          states.map(({ id, state }) => ({
            id,
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
            field_stamps: {
              fields: state.stamps,
              agents: Object.fromEntries(
                Object.entries(state.agents).map(([key, { stamp }]) => [key, stamp]),
              ),
            },
            new_messages: withNewMessages.has(id),
          })),
        ),
      ],
    );
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
    if (query.after) {
      // Rows with no activity yet sort last (NULLS LAST), by id.
      where.push(
        query.after.lastActivityAt === null
          ? `(c.last_activity_at IS NULL AND c.id < ${param(query.after.id)})`
          : `(c.last_activity_at < ${param(query.after.lastActivityAt)}
              OR (c.last_activity_at = ${param(query.after.lastActivityAt)} AND c.id < ${param(query.after.id)})
              OR c.last_activity_at IS NULL)`,
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

function messagesIn(
  all: Map<string, Map<string, MessageState>>,
  conversationId: string,
): Map<string, MessageState> {
  let messages = all.get(conversationId);
  if (!messages) {
    messages = new Map();
    all.set(conversationId, messages);
  }
  return messages;
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
    firstSeenAt: row.first_seen_at.toISOString(),
    stamps: row.field_stamps ?? {},
  };
}
