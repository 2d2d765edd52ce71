import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  OneToMany,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';

/**
 * pending: not tried yet; failed: the last attempt failed and another is scheduled; dead: no more.
 * Ordered conversations only: held: waiting behind the head of its conversation; blocked: a dead
 * head that parks its conversation (onDead "block") until an operator re-drives or skips it.
 */
export const DELIVERY_STATUSES = [
  'pending',
  'succeeded',
  'failed',
  'dead',
  'held',
  'blocked',
] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

@Entity({ name: 'deliveries' })
export class DeliveryEntity {
  @PrimaryColumn({ type: 'text' })
  id: string;

  /** The event's deliveries go with it (ON DELETE CASCADE, in the migration). */
  @Column({ name: 'event_id', type: 'text' })
  eventId: string;

  @Column({ name: 'subscription_id', type: 'text' })
  subscriptionId: string;

  @ManyToOne(() => SubscriptionEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'subscription_id' })
  subscription?: SubscriptionEntity;

  @Column({ type: 'text', default: 'pending' })
  status: DeliveryStatus;

  @Column({ name: 'attempt_count', type: 'int', default: 0 })
  attemptCount: number;

  /** Bumped by each retry or re-drive; a queued job of an older run is stale. */
  @Column({ type: 'int', default: 0 })
  run: number;

  /** attemptCount when the current run began: the run's attempts are counted from here. */
  @Column({ name: 'run_attempt_base', type: 'int', default: 0 })
  runAttemptBase: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'last_status_code', type: 'int', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** The conversation key of its lane when its subscription is ordered; null: not ordered. */
  @Column({ name: 'lane_key', type: 'text', nullable: true })
  laneKey: string | null;

  /** Its place in the lane: when the router accepted the webhook, or when an operator put it back. */
  @Column({ name: 'lane_at', type: 'timestamptz', nullable: true })
  laneAt: Date | null;

  /** Why it left the lane's queue: "released after <id> died", "released after <id> was skipped". */
  @Column({ name: 'ordering_note', type: 'text', nullable: true })
  orderingNote: string | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @OneToMany(() => DeliveryAttemptEntity, (attempt) => attempt.delivery)
  attempts?: DeliveryAttemptEntity[];
}
