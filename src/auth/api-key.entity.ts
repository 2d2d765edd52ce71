import { Column, Entity, PrimaryColumn } from 'typeorm';

/** What a scoped key may do: only the action API, for now. */
export const API_KEY_SCOPES = ['actions'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** A key an admin minted for a bot: `<id>.<secret>`, the secret stored as its SHA-256 only. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  /** `key_…`: the part of the key before the dot. */
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  scope: ApiKeyScope;

  /** The sources whose conversations it may act on; empty: every source. */
  @Column({ name: 'source_ids', type: 'text', array: true })
  sourceIds: string[];

  @Column({ name: 'secret_hash', type: 'bytea', select: false })
  secretHash: Buffer;

  /** The key's last four characters, to tell keys apart. */
  @Column({ type: 'text' })
  hint: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;
}
