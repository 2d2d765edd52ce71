import { Type } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsUrl, Max, Min, MaxLength } from 'class-validator';

/**
 * The settings a source kind takes, declared by its plug-in. They are top-level fields of the
 * admin API's source bodies and answers and of the routes file's source entries, are stored in
 * the `settings` column, and reach `verify` and `deliveryId` as `source.settings`.
 */
export interface SourceSettingsDeclaration<Settings extends object> {
  /**
   * A class with one property per setting: its default as initializer (`null`, `[]`, …), its
   * class-validator rules (each with `@IsOptional()`: null puts the default back) and its
   * `@ApiPropertyOptional`, which the OpenAPI document shows.
   */
  readonly type: Type<Settings>;
  /**
   * Settings holding a secret the user gives: shown in the create answer only, later reads say
   * `has<Name>` instead; the routes file takes nothing but a `${NAME}` for them.
   */
  readonly secrets?: readonly string[];
}

/** A configured source as a plug-in sees it: its own settings, defaults filled in. */
export interface ConfiguredSource<Settings extends object = object> {
  id: string;
  kind: string;
  settings: Settings;
}

/**
 * The settings of a kind whose answer the router may enrich (`replyEnrichment`): extend this
 * class. Setting the first `enrichmentUrl` makes the `enrichmentSecret` requests are signed with.
 */
export class ReplyEnrichmentSettings {
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'https://crm.example.com/jivo/enrich',
    format: 'uri',
    maxLength: 2000,
    description:
      'The endpoint asked, within a time budget, for the reply shown to the agent ' +
      '(docs/jivo-enrichment.md); null stops enriching. The first URL set makes an ' +
      '`enrichmentSecret`, shown in that answer only.',
  })
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'enrichmentUrl must be an http(s) URL' },
  )
  @MaxLength(2000)
  enrichmentUrl: string | null = null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    example: 2000,
    minimum: 100,
    maximum: 10_000,
    description: 'Time budget of the enrichment call; null: ENRICHMENT_TIMEOUT_MS',
  })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(10_000)
  enrichmentTimeoutMs: number | null = null;

  @ApiPropertyOptional({
    type: Boolean,
    example: true,
    default: false,
    description:
      'With no `enrichmentUrl`, answer the reply from what the router knows: the merged ' +
      "contact's details, its earlier conversations on every source, a link to it " +
      '(docs/jivo-enrichment.md). An `enrichmentUrl`, when set, wins.',
  })
  @IsOptional()
  @IsBoolean()
  builtinEnrichment = false;
}
