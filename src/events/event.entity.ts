import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { CanonicalEvent } from '../canonical/canonical-event';

export type EventStatus = 'routed' | 'unprocessable';

/** One inbound webhook: the bytes as received beside the canonical event made of them. */
@Entity({ name: 'events' })
export class EventEntity {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ name: 'source_id', type: 'text' })
  sourceId: string;

  @Column({ name: 'source_kind', type: 'text' })
  sourceKind: string;

  @Column({ name: 'source_event', type: 'text', nullable: true })
  sourceEvent: string | null;

  @Column({ name: 'source_delivery_id', type: 'text', nullable: true })
  sourceDeliveryId: string | null;

  /** The canonical type; null when the payload could not be mapped. */
  @Column({ type: 'text', nullable: true })
  type: string | null;

  @Column({ type: 'text' })
  status: EventStatus;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'conversation_key', type: 'text', nullable: true })
  conversationKey: string | null;

  /** The router's conversation id (`conv_…`): the conversation's timeline reads by it. */
  @Column({ name: 'conversation_id', type: 'text', nullable: true })
  conversationId: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  @Column({ name: 'raw_body', type: 'text' })
  rawBody: string;

  /** `json`, not `jsonb`: deliveries send it back with its documented key order. */
  @Column({ type: 'json', nullable: true })
  canonical: CanonicalEvent | null;
}
