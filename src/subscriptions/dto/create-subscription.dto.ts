import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { EVENT_TYPE_PATTERN } from '../../routing/event-type-pattern';
import { IsHeaderMap } from './header-map.validator';

export class RetryPolicyDto {
  /** Attempts in all, the first included. */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  maxAttempts?: number;
}

export class CreateSubscriptionDto {
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'url must be an http(s) URL' },
  )
  @MaxLength(2000)
  url: string;

  /** Canonical types to receive; `*` stands for one segment (`message.*`), a lone `*` for all. */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Matches(EVENT_TYPE_PATTERN, {
    each: true,
    message: 'each eventTypes entry must look like "message.created", "message.*" or "*"',
  })
  eventTypes: string[];

  /** Only events from these sources; absent means every source. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  sourceIds?: string[];

  /** Extra request headers sent with every delivery. */
  @IsOptional()
  @IsObject()
  @IsHeaderMap()
  headers?: Record<string, string>;

  /** A `whsec_` secret of your own; one is generated when absent. */
  @IsOptional()
  @Matches(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, {
    message: 'secret must be whsec_ followed by at least 24 bytes of base64',
  })
  secret?: string;

  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RetryPolicyDto)
  retryPolicy?: RetryPolicyDto;

  /** Per-attempt timeout. */
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(60_000)
  timeoutMs?: number;

  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
