import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One person, across sources: the identities that joined it say who it is on each. */
@Entity({ name: 'contacts' })
export class ContactEntity {
  /** The router's id: `ct_…`. */
  @PrimaryColumn({ type: 'text' })
  id: string;

  /** The newest name, email and phone among its identities (kept when an identity changes). */
  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  @Column({ name: 'phone_e164', type: 'text', nullable: true })
  phoneE164: string | null;

  @Column({ name: 'last_activity_at', type: 'timestamptz', nullable: true })
  lastActivityAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** A contact as one source knows it: one per (source, native contact id). */
@Entity({ name: 'contact_identities' })
export class ContactIdentityEntity {
  /** The router's id: `cti_…`. */
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ name: 'contact_id', type: 'text' })
  contactId: string;

  @Column({ name: 'source_id', type: 'text' })
  sourceId: string;

  @Column({ name: 'source_kind', type: 'text' })
  sourceKind: string;

  /** The native contact id (Jivo `client_id`/visitor number, Chatwoot contact id). */
  @Column({ name: 'external_id', type: 'text' })
  externalId: string;

  @Column({ type: 'text', nullable: true })
  name: string | null;

  @Column({ type: 'text', nullable: true })
  email: string | null;

  /** Lower-case and trimmed: what joins identities by email. */
  @Column({ name: 'email_normalized', type: 'text', nullable: true })
  emailNormalized: string | null;

  @Column({ type: 'text', nullable: true })
  phone: string | null;

  @Column({ name: 'phone_e164', type: 'text', nullable: true })
  phoneE164: string | null;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ name: 'avatar_url', type: 'text', nullable: true })
  avatarUrl: string | null;

  @Column({ type: 'jsonb' })
  attributes: Record<string, unknown>;

  @Column({ name: 'field_stamps', type: 'jsonb' })
  fieldStamps: Record<string, unknown>;

  /** False once split out by hand: automatic joins leave it alone from then on. */
  @Column({ name: 'auto_join', type: 'boolean' })
  autoJoin: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export type ContactLinkReason = 'created' | 'email' | 'phone' | 'merge' | 'split';

/** Why an identity joined (or left) a contact: the log behind every join. */
@Entity({ name: 'contact_links' })
export class ContactLinkEntity {
  @PrimaryColumn({ type: 'bigint', generated: 'increment' })
  id: string;

  @Column({ name: 'contact_id', type: 'text' })
  contactId: string;

  @Column({ name: 'identity_id', type: 'text', nullable: true })
  identityId: string | null;

  /** The contact it came from (a join or merge) or went to (a split). */
  @Column({ name: 'other_contact_id', type: 'text', nullable: true })
  otherContactId: string | null;

  @Column({ type: 'text' })
  reason: ContactLinkReason;

  /** The shared email or phone of an automatic join. */
  @Column({ type: 'text', nullable: true })
  value: string | null;

  @Column({ name: 'event_id', type: 'text', nullable: true })
  eventId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
