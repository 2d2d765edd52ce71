import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
  @ApiProperty({
    example: 'jivo',
    description: 'The plug-in kind: `jivo`, `jivo-bot`, `chatwoot` (GET /api/sources/kinds)',
  })
  @IsString()
  @IsNotEmpty()
  kind: string;

  @ApiProperty({ example: 'Jivo main site', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiPropertyOptional({
    example: '3vQmZ8kT1xYp9cRw5nLb7HsD',
    maxLength: 500,
    description:
      "Chatwoot: the webhook's secret; requests must then carry a valid signature. " +
      'Shown in the create answer only.',
  })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  signingSecret?: string;

  @ApiPropertyOptional({
    example: 'X-Konversio',
    pattern: '^[A-Za-z0-9-]{1,64}$',
    description: 'Header prefix a rebranded Chatwoot fork uses instead of `X-Chatwoot`',
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9-]{1,64}$/, {
    message: 'signatureHeaderPrefix may hold letters, digits and -',
  })
  signatureHeaderPrefix?: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['3948'],
    maxItems: 1000,
    description: 'Jivo: the `widget_id`s accepted on this source; empty or absent accepts all',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  allowedChannelIds?: string[];

  @ApiPropertyOptional({
    example: 'https://crm.example.com/jivo/enrich',
    format: 'uri',
    maxLength: 2000,
    description:
      'Jivo: the endpoint asked, within a time budget, for the reply shown to the agent ' +
      '(docs/jivo-enrichment.md). Setting it makes an `enrichmentSecret`, shown once.',
  })
  @IsOptional()
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'enrichmentUrl must be an http(s) URL' },
  )
  @MaxLength(2000)
  enrichmentUrl?: string;

  @ApiPropertyOptional({
    type: 'integer',
    example: 2000,
    minimum: 100,
    maximum: 10_000,
    description: 'Time budget of the enrichment call; default ENRICHMENT_TIMEOUT_MS',
  })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(10_000)
  enrichmentTimeoutMs?: number;
}
