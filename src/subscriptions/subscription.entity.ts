import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'subscriptions' })
export class SubscriptionEntity {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  url: string;

  @Column({ name: 'event_types', type: 'text', array: true })
  eventTypes: string[];

  /** Null: events from every source. */
  @Column({ name: 'source_ids', type: 'text', array: true, nullable: true })
  sourceIds: string[] | null;

  /** The `whsec_` secret deliveries are signed with; loaded only where a delivery is signed. */
  @Column({ type: 'text', select: false })
  secret: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  headers: Record<string, string>;

  @Column({ name: 'max_attempts', type: 'int', nullable: true })
  maxAttempts: number | null;

  @Column({ name: 'timeout_ms', type: 'int', nullable: true })
  timeoutMs: number | null;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
