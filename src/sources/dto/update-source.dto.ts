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

export class UpdateSourceDto {
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  /** A new signing secret, or null to stop requiring signatures. */
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  signingSecret?: string | null;

  @ValidateIf((_, value) => value !== null && value !== undefined)
  @Matches(/^[A-Za-z0-9-]{1,64}$/, {
    message: 'signatureHeaderPrefix may hold letters, digits and -',
  })
  signatureHeaderPrefix?: string | null;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  allowedChannelIds?: string[];

  /** A new enrichment endpoint, or null to stop enriching. */
  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'enrichmentUrl must be an http(s) URL' },
  )
  @MaxLength(2000)
  enrichmentUrl?: string | null;

  @ValidateIf((_, value) => value !== null && value !== undefined)
  @IsInt()
  @Min(100)
  @Max(10_000)
  enrichmentTimeoutMs?: number | null;
}
