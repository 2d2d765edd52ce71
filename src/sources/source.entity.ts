import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

@Entity({ name: 'sources' })
export class SourceEntity {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  kind: string;

  @Column({ type: 'text' })
  name: string;

  /** SHA-256 of the URL token; the token itself is shown once and never stored. */
  @Column({ name: 'token_hash', type: 'bytea', select: false })
  tokenHash: Buffer;

  @Column({ name: 'token_hint', type: 'text' })
  tokenHint: string;

  @Column({ name: 'signing_secret', type: 'text', nullable: true, select: false })
  signingSecret: string | null;

  @Column({ name: 'signature_header_prefix', type: 'text', nullable: true })
  signatureHeaderPrefix: string | null;

  @Column({ name: 'allowed_channel_ids', type: 'text', array: true, default: () => "'{}'" })
  allowedChannelIds: string[];

  /** Where to ask for the reply shown to the sender's agent (Jivo chat_accepted/chat_updated). */
  @Column({ name: 'enrichment_url', type: 'text', nullable: true })
  enrichmentUrl: string | null;

  @Column({ name: 'enrichment_timeout_ms', type: 'int', nullable: true })
  enrichmentTimeoutMs: number | null;

  /** The `whsec_` secret enrichment requests are signed with. */
  @Column({ name: 'enrichment_secret', type: 'text', nullable: true, select: false })
  enrichmentSecret: string | null;

  /** Its key in the routes file when declared there (routes as code); null when made through the API. */
  @Column({ name: 'routes_key', type: 'text', nullable: true })
  routesKey: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
