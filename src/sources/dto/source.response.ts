import { SourceEntity } from '../source.entity';

/** A source as the admin API shows it: the token and signing secret only right after they are made. */
export interface SourceResponse {
  id: string;
  kind: string;
  name: string;
  /** The inbound URL; the token in it is masked except on create and rotate. */
  url: string;
  token?: string;
  tokenHint: string;
  signingSecret?: string;
  hasSigningSecret: boolean;
  signatureHeaderPrefix: string | null;
  allowedChannelIds: string[];
  enrichmentUrl: string | null;
  enrichmentTimeoutMs: number | null;
  /** Signs enrichment requests; shown when it is made. */
  enrichmentSecret?: string;
  createdAt: string;
  updatedAt: string;
}

export function toSourceResponse(
  source: SourceEntity,
  baseUrl: string,
  revealed: {
    token?: string;
    signingSecret?: string;
    enrichmentSecret?: string;
    hasSigningSecret: boolean;
  },
): SourceResponse {
  const tokenPart = revealed.token ?? `…${source.tokenHint}`;
  return {
    id: source.id,
    kind: source.kind,
    name: source.name,
    url: `${baseUrl}/webhooks/${source.kind}/${tokenPart}`,
    ...(revealed.token ? { token: revealed.token } : {}),
    tokenHint: source.tokenHint,
    ...(revealed.signingSecret ? { signingSecret: revealed.signingSecret } : {}),
    hasSigningSecret: revealed.hasSigningSecret,
    signatureHeaderPrefix: source.signatureHeaderPrefix,
    allowedChannelIds: source.allowedChannelIds,
    enrichmentUrl: source.enrichmentUrl,
    enrichmentTimeoutMs: source.enrichmentTimeoutMs,
    ...(revealed.enrichmentSecret ? { enrichmentSecret: revealed.enrichmentSecret } : {}),
    createdAt: source.createdAt.toISOString(),
    updatedAt: source.updatedAt.toISOString(),
  };
}
