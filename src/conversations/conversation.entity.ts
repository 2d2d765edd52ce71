import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Agent, Channel, MessageDirection, Team } from '../canonical/canonical-event';

/** When a field was last set: the event's `occurredAt` and the event id that breaks ties. */
export type FieldStamp = [occurredAt: string, eventId: string];

export interface LastMessagePreview {
  externalId: string;
  direction: MessageDirection | null;
  text: string | null;
  createdAt: string | null;
  senderName: string | null;
  deleted: boolean;
}

/** The state of one conversation (one canonical `conversation.key`), kept by the ingest worker. */
@Entity({ name: 'conversations' })
export class ConversationEntity {
  /** The router's id: `conv_…`. */
  @PrimaryColumn({ type: 'text' })
  id: string;

  /** The canonical `conversation.key`: `<kind>:<sourceId>:<native id>`. */
  @Column({ type: 'text' })
  key: string;

  @Column({ name: 'source_id', type: 'text' })
  sourceId: string;

  @Column({ name: 'source_kind', type: 'text' })
  sourceKind: string;

  /** The source's own conversation id (Jivo chat id, Chatwoot conversation display id). */
  @Column({ name: 'external_id', type: 'text' })
  externalId: string;

  /** The router's contact (`ct_…`), following merges and splits of its identity. */
  @Column({ name: 'contact_id', type: 'text', nullable: true })
  contactId: string | null;

  @Column({ name: 'contact_identity_id', type: 'text', nullable: true })
  contactIdentityId: string | null;

  /** The contact's native id on this source (Jivo `client_id`/visitor number, Chatwoot contact id). */
  @Column({ name: 'contact_external_id', type: 'text', nullable: true })
  contactExternalId: string | null;

  @Column({ type: 'text' })
  status: string;

  @Column({ name: 'channel_type', type: 'text', nullable: true })
  channelType: string | null;

  @Column({ type: 'jsonb', nullable: true })
  channel: Channel | null;

  @Column({ type: 'jsonb', nullable: true })
  team: Team | null;

  @Column({ type: 'jsonb', nullable: true })
  assignee: Agent | null;

  @Column({ name: 'assignee_external_id', type: 'text', nullable: true })
  assigneeExternalId: string | null;

  @Column({ type: 'jsonb' })
  agents: Agent[];

  @Column({ type: 'text', array: true })
  labels: string[];

  @Column({ type: 'text', nullable: true })
  rating: string | null;

  @Column({ type: 'jsonb' })
  attributes: Record<string, unknown>;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  @Column({ name: 'first_activity_at', type: 'timestamptz', nullable: true })
  firstActivityAt: Date | null;

  @Column({ name: 'last_activity_at', type: 'timestamptz', nullable: true })
  lastActivityAt: Date | null;

  @Column({ name: 'messages_inbound', type: 'int' })
  messagesInbound: number;

  @Column({ name: 'messages_outbound', type: 'int' })
  messagesOutbound: number;

  @Column({ name: 'messages_internal', type: 'int' })
  messagesInternal: number;

  @Column({ name: 'last_message', type: 'jsonb', nullable: true })
  lastMessage: LastMessagePreview | null;

  /** field → [occurredAt, eventId] of the event that set it (docs/conversations.md). */
  @Column({ name: 'field_stamps', type: 'jsonb' })
  fieldStamps: Record<string, unknown>;

  /** Moves with every write of the state (optimistic concurrency of the ingest worker). */
  @Column({ name: 'state_version', type: 'bigint' })
  stateVersion: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
