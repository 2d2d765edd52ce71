import {
  ArrayMaxSize,
  IsInt,
  IsUrl,
  Max,
  Min,
  IsArray,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
} from 'class-validator';

export class CreateSourceDto {
  /** The plug-in kind: `jivo`, `chatwoot`, … (GET /api/sources/kinds lists them). */
  @IsString()
  @IsNotEmpty()
  kind: string;

  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  /** Chatwoot: the webhook's secret; requests must then carry a valid signature. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  signingSecret?: string;

  /** Header prefix a rebranded fork uses instead of `X-Chatwoot` (e.g. `X-Konversio`). */
  @IsOptional()
  @Matches(/^[A-Za-z0-9-]{1,64}$/, {
    message: 'signatureHeaderPrefix may hold letters, digits and -',
  })
  signatureHeaderPrefix?: string;

  /** Jivo: the `widget_id`s accepted on this source; empty or absent accepts all. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  allowedChannelIds?: string[];

  /** Jivo: the endpoint asked, within a time budget, for the reply shown to the agent. */
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'enrichmentUrl must be an http(s) URL' },
  )
  @MaxLength(2000)
  enrichmentUrl?: string;

  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(10_000)
  enrichmentTimeoutMs?: number;
}
