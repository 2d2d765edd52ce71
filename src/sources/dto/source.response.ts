import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JsonRecord } from '../../canonical/coerce';
import { EXAMPLE_IDS, EXAMPLE_TIMESTAMP } from '../../common/openapi-examples';
import { MANAGED_PROPERTY, ManagedByRoutesFile, managedBy } from '../../common/routes-managed';
import { SourceEntity } from '../source.entity';

const EXAMPLE_TOKEN = 'pjJch7L-Ev4tPAhKQ13FsiJLsxDp5LLP';
const EXAMPLE_ENRICHMENT_SECRET = 'whsec_7u6ZakSQSU8w54riI7xxCUfSBWUkNIb6N3Mu7NUq7+Y=';

/**
 * A source as the admin API shows it: the token and secrets only right after they are made.
 * A class so the OpenAPI document can describe it; toSourceResponse builds plain objects of it.
 * The kind's settings sit beside these fields (`allowedChannelIds`, `hasSigningSecret`, …): the
 * OpenAPI document adds them from the plug-ins.
 */
export class SourceResponse {
  [setting: string]: unknown;

  @ApiProperty({ example: EXAMPLE_IDS.source })
  id: string;

  @ApiProperty({ example: 'jivo' })
  kind: string;

  @ApiProperty({ example: 'Jivo main site' })
  name: string;

  @ApiProperty({
    example: `https://hooks.example.com/webhooks/jivo/…${EXAMPLE_TOKEN.slice(-4)}`,
    description:
      'The inbound URL to paste into the sender; the token in it is masked (`…` and its last ' +
      '4 characters) except in the create and rotate-token answers',
  })
  url: string;

  @ApiPropertyOptional({
    example: EXAMPLE_TOKEN,
    description: 'The secret URL token: in the create and rotate-token answers only',
  })
  token?: string;

  @ApiProperty({ example: EXAMPLE_TOKEN.slice(-4), description: 'Last 4 characters of the token' })
  tokenHint: string;

  @ApiPropertyOptional({
    example: EXAMPLE_ENRICHMENT_SECRET,
    description:
      'Kinds with `enrichmentUrl`: signs enrichment requests (Standard Webhooks); in the answer ' +
      'that set the first enrichmentUrl only',
  })
  enrichmentSecret?: string;

  @ApiProperty(MANAGED_PROPERTY)
  managed: ManagedByRoutesFile | null;

  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIMESTAMP })
  createdAt: string;

  @ApiProperty({ format: 'date-time', example: EXAMPLE_TIMESTAMP })
  updatedAt: string;
}

export class SourceKindsResponse {
  @ApiProperty({ type: [String], example: ['jivo', 'chatwoot', 'jivo-bot'] })
  data: string[];
}

/** How a source reads after its create answer: no secrets, the token masked. */
export const SOURCE_EXAMPLE = {
  id: EXAMPLE_IDS.source,
  kind: 'jivo',
  name: 'Jivo main site',
  url: `https://hooks.example.com/webhooks/jivo/…${EXAMPLE_TOKEN.slice(-4)}`,
  tokenHint: EXAMPLE_TOKEN.slice(-4),
  enrichmentUrl: 'https://crm.example.com/jivo/enrich',
  enrichmentTimeoutMs: null,
  allowedChannelIds: ['3948'],
  managed: null,
  createdAt: EXAMPLE_TIMESTAMP,
  updatedAt: EXAMPLE_TIMESTAMP,
} satisfies SourceResponse;

/** The create answer of a Jivo source with enrichment: token and enrichment secret shown once. */
export const SOURCE_CREATED_EXAMPLE = {
  ...SOURCE_EXAMPLE,
  url: `https://hooks.example.com/webhooks/jivo/${EXAMPLE_TOKEN}`,
  token: EXAMPLE_TOKEN,
  enrichmentSecret: EXAMPLE_ENRICHMENT_SECRET,
} satisfies SourceResponse;

/** The rotate-token answer: the new token, once. */
export const SOURCE_ROTATED_EXAMPLE = {
  ...SOURCE_EXAMPLE,
  url: 'https://hooks.example.com/webhooks/jivo/Qx8vN2mK5tR7wY1zB4cF6hJ9LpS3dG0a',
  token: 'Qx8vN2mK5tR7wY1zB4cF6hJ9LpS3dG0a',
  tokenHint: 'dG0a',
  updatedAt: '2026-04-17T09:12:03.441Z',
} satisfies SourceResponse;

/** `settings`: the kind's settings as shown (presentedSettings). */
export function toSourceResponse(
  source: SourceEntity,
  baseUrl: string,
  settings: JsonRecord,
  revealed: { token?: string; enrichmentSecret?: string } = {},
): SourceResponse {
  const tokenPart = revealed.token ?? `…${source.tokenHint}`;
  return {
    id: source.id,
    kind: source.kind,
    name: source.name,
    url: `${baseUrl}/webhooks/${source.kind}/${tokenPart}`,
    ...(revealed.token ? { token: revealed.token } : {}),
    tokenHint: source.tokenHint,
    ...settings,
    ...(revealed.enrichmentSecret ? { enrichmentSecret: revealed.enrichmentSecret } : {}),
    managed: managedBy(source.routesKey),
    createdAt: source.createdAt.toISOString(),
    updatedAt: source.updatedAt.toISOString(),
  };
}
