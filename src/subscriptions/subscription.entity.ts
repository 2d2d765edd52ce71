import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { ContentFilter } from '../policies/content-filter';

/** canonical: the canonical event; raw: the source's body as received; transformed: the transform's output. */
export const PAYLOAD_FORMATS = ['canonical', 'raw', 'transformed'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];

/** none: deliveries go out as soon as they are ready; conversation: one at a time per conversation, in accept order. */
export const ORDERINGS = ['none', 'conversation'] as const;
export type Ordering = (typeof ORDERINGS)[number];

/** What a dead head of an ordered conversation does: release the next one, or block the conversation. */
export const ON_DEAD_ACTIONS = ['release', 'block'] as const;
export type OnDead = (typeof ON_DEAD_ACTIONS)[number];

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

  /** The secret replaced by the last rotation, still signing until it expires. */
  @Column({ name: 'previous_secret', type: 'text', nullable: true, select: false })
  previousSecret: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  headers: Record<string, string>;

  /** A MongoDB-style query on the canonical event (sift); null: every event of the types. */
  @Column({ type: 'jsonb', nullable: true })
  filter: ContentFilter | null;

  /** A JSONata expression shaping the body when payloadFormat is `transformed`. */
  @Column({ type: 'text', nullable: true })
  transform: string | null;

  @Column({ name: 'payload_format', type: 'text', default: 'canonical' })
  payloadFormat: PayloadFormat;

  /** Seconds to wait before each retry; null: the default schedule. */
  @Column({ name: 'retry_schedule', type: 'real', array: true, nullable: true })
  retrySchedule: number[] | null;

  @Column({ name: 'max_attempts', type: 'int', nullable: true })
  maxAttempts: number | null;

  @Column({ name: 'timeout_ms', type: 'int', nullable: true })
  timeoutMs: number | null;

  @Column({ name: 'rate_limit_max', type: 'int', nullable: true })
  rateLimitMax: number | null;

  @Column({ name: 'rate_limit_per_seconds', type: 'int', nullable: true })
  rateLimitPerSeconds: number | null;

  /** Consecutive dead deliveries that disable it; null: the default, 0: never. */
  @Column({ name: 'disable_after_dead', type: 'int', nullable: true })
  disableAfterDead: number | null;

  @Column({ name: 'consecutive_dead', type: 'int', default: 0 })
  consecutiveDead: number;

  @Column({ type: 'text', default: 'none' })
  ordering: Ordering;

  @Column({ name: 'on_dead', type: 'text', default: 'release' })
  onDead: OnDead;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** Why the router disabled it (410 Gone, too many dead deliveries); null when enabled or disabled by hand. */
  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  /** Its key in the routes file when declared there (routes as code); null when made through the API. */
  @Column({ name: 'routes_key', type: 'text', nullable: true })
  routesKey: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
