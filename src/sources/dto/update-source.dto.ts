import { ApiPropertyOptional } from '@nestjs/swagger';
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
  ValidateIf,
} from 'class-validator';

/** Every field optional; null clears the nullable ones. The kind and token never change here. */
export class UpdateSourceDto {
  @ApiPropertyOptional({ example: 'Jivo main site (EU)', maxLength: 200 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'n7Rk2Vq9Xw4Lp8Tz3Hc6Jb1M',
    maxLength: 500,
    description: 'A new Chatwoot signing secret, or null to stop requiring signatures',
  })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  signingSecret?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'X-Konversio',
    pattern: '^[A-Za-z0-9-]{1,64}$',
    description: 'Header prefix of a rebranded Chatwoot fork, or null for `X-Chatwoot`',
  })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @Matches(/^[A-Za-z0-9-]{1,64}$/, {
    message: 'signatureHeaderPrefix may hold letters, digits and -',
  })
  signatureHeaderPrefix?: string | null;

  @ApiPropertyOptional({
    type: [String],
    example: ['3948', '4120'],
    maxItems: 1000,
    description: 'Jivo: the accepted `widget_id`s (replaces the list; empty accepts all)',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  allowedChannelIds?: string[];

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    format: 'uri',
    maxLength: 2000,
    example: 'https://crm.example.com/jivo/enrich',
    description:
      'A new enrichment endpoint, or null to stop enriching. The first URL set makes an ' +
      '`enrichmentSecret`, shown in this answer only.',
  })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'enrichmentUrl must be an http(s) URL' },
  )
  @MaxLength(2000)
  enrichmentUrl?: string | null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    example: 1500,
    minimum: 100,
    maximum: 10_000,
    description: 'Time budget of the enrichment call, or null for ENRICHMENT_TIMEOUT_MS',
  })
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsInt()
  @Min(100)
  @Max(10_000)
  enrichmentTimeoutMs?: number | null;
}
