import { JsonRecord } from '../canonical/coerce';
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

  /**
   * The kind's settings, as its plug-in declares them (absent: the default), and the secret the
   * router made for enrichment requests. Holds secrets, so it is read only when asked for.
   */
  @Column({ type: 'jsonb', default: () => "'{}'", select: false })
  settings: JsonRecord;

  /** Its key in the routes file when declared there (routes as code); null when made through the API. */
  @Column({ name: 'routes_key', type: 'text', nullable: true })
  routesKey: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
