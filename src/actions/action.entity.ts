import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ActionKind, CanonicalAction } from '../sources/source-actions';

export const ACTION_STATES = ['queued', 'succeeded', 'failed'] as const;
export type ActionState = (typeof ACTION_STATES)[number];

/** The conversation an action was made for, as it was when the action was made. */
export interface ActionTargetSnapshot {
  externalId: string;
  contactExternalId: string | null;
}

/** One action on a conversation, from the request to its outcome. */
@Entity({ name: 'actions' })
export class ActionEntity {
  /** `act_…`; ULIDs order an API process's actions as they were made. */
  @PrimaryColumn({ type: 'text' })
  id: string;

  /** The canonical `conversation.key`: actions on one key are sent one at a time, in order. */
  @Column({ name: 'conversation_key', type: 'text' })
  conversationKey: string;

  /** The router's conversation id (`conv_…`) when the conversation has a row. */
  @Column({ name: 'conversation_id', type: 'text', nullable: true })
  conversationId: string | null;

  @Column({ name: 'source_id', type: 'text' })
  sourceId: string;

  @Column({ name: 'source_kind', type: 'text' })
  sourceKind: string;

  @Column({ type: 'text' })
  kind: ActionKind;

  @Column({ type: 'jsonb' })
  request: CanonicalAction;

  @Column({ type: 'jsonb' })
  target: ActionTargetSnapshot;

  @Column({ type: 'text' })
  status: ActionState;

  /** The platform call to make next (a handoff on Chatwoot makes two or three). */
  @Column({ name: 'next_call', type: 'int' })
  nextCall: number;

  @Column({ type: 'int' })
  attempts: number;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** `admin`, or the id of the scoped key that asked. */
  @Column({ name: 'requested_by', type: 'text' })
  requestedBy: string;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey: string | null;

  @Column({ name: 'request_hash', type: 'bytea', nullable: true, select: false })
  requestHash: Buffer | null;

  /** The `action.succeeded` / `action.failed` event once the action ended. */
  @Column({ name: 'outcome_event_id', type: 'text', nullable: true })
  outcomeEventId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;
}

/** One HTTP call made for an action. */
@Entity({ name: 'action_attempts' })
export class ActionAttemptEntity {
  @PrimaryColumn({ type: 'bigint', generated: 'increment' })
  id: string;

  @Column({ name: 'action_id', type: 'text' })
  actionId: string;

  @Column({ name: 'attempt_number', type: 'int' })
  attemptNumber: number;

  @Column({ name: 'call_index', type: 'int' })
  callIndex: number;

  /** What the call does (`BOT_MESSAGE`, `toggle_status open`). */
  @Column({ type: 'text' })
  call: string;

  /** Where it went, any token in the URL replaced by `…`. */
  @Column({ type: 'text' })
  url: string;

  @Column({ name: 'status_code', type: 'int', nullable: true })
  statusCode: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'response_excerpt', type: 'text', nullable: true })
  responseExcerpt: string | null;

  @Column({ name: 'duration_ms', type: 'int' })
  durationMs: number;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt: Date;
}
