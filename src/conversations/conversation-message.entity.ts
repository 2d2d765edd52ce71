import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Actor, Attachment } from '../canonical/canonical-event';

/** One message of a conversation, merged from every event that carried it. */
@Entity({ name: 'conversation_messages' })
export class ConversationMessageEntity {
  @PrimaryColumn({ name: 'conversation_id', type: 'text' })
  conversationId: string;

  @PrimaryColumn({ name: 'external_id', type: 'text' })
  externalId: string;

  @Column({ type: 'text', nullable: true })
  direction: string | null;

  @Column({ type: 'text', nullable: true })
  kind: string | null;

  @Column({ type: 'text', nullable: true })
  text: string | null;

  @Column({ type: 'jsonb' })
  attachments: Attachment[];

  @Column({ type: 'jsonb', nullable: true })
  sender: Actor | null;

  @Column({ name: 'created_at', type: 'timestamptz', nullable: true })
  createdAt: Date | null;

  @Column({ type: 'boolean' })
  private: boolean;

  @Column({ type: 'boolean' })
  deleted: boolean;

  @Column({ type: 'text', nullable: true })
  status: string | null;

  @Column({ name: 'first_seen_at', type: 'timestamptz' })
  firstSeenAt: Date;

  @Column({ name: 'field_stamps', type: 'jsonb' })
  fieldStamps: Record<string, unknown>;
}
