import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
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
import { EVENT_TYPE_PATTERN } from '../../policies/event-type-pattern';
import {
  ON_DEAD_ACTIONS,
  OnDead,
  ORDERINGS,
  Ordering,
  PAYLOAD_FORMATS,
  PayloadFormat,
} from '../subscription.entity';
import { IsHeaderMap } from './header-map.validator';
import { IsContentFilter, IsTransform } from './policy.validators';

export const SIGNING_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/;
const SIGNING_SECRET_MESSAGE = 'secret must be whsec_ followed by at least 24 bytes of base64';

export class RetryPolicyDto {
  @ApiPropertyOptional({
    description: 'Attempts in all, the first included. Default: the schedule length + 1.',
    example: 8,
    minimum: 1,
    maximum: 100,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100)
  maxAttempts?: number;

  @ApiPropertyOptional({
    description:
      'Seconds to wait before each retry (jittered ±20%); the last repeats when maxAttempts asks for more. ' +
      'Default: 5, 300, 1800, 7200, 18000, 36000, 36000.',
    example: [5, 60, 600, 3600],
    type: [Number],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(99)
  @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true })
  @Min(0, { each: true })
  @Max(7 * 24 * 3600, { each: true })
  schedule?: number[];
}

export class RateLimitDto {
  @ApiProperty({ description: 'Deliveries allowed per window', example: 5, minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(100_000)
  max: number;

  @ApiProperty({ description: 'Window length in seconds', example: 1, minimum: 1 })
  @IsInt()
  @Min(1)
  @Max(86_400)
  perSeconds: number;
}

export class CreateSubscriptionDto {
  @ApiProperty({ example: 'Pipedrive notes', maxLength: 200 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({
    example: 'https://crm.example.com/hooks/chat',
    maxLength: 2000,
    description:
      'Credentials in it are masked on reads (`https://…:…@host/…`); sent back masked (PATCH), ' +
      'they keep the current ones.',
  })
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'url must be an http(s) URL' },
  )
  @MaxLength(2000)
  url: string;

  @ApiProperty({
    description:
      'Canonical types to receive; `*` stands for one segment (`message.*`), a lone `*` for all.',
    example: ['message.*', 'conversation.ended'],
    type: [String],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @Matches(EVENT_TYPE_PATTERN, {
    each: true,
    message: 'each eventTypes entry must look like "message.created", "message.*" or "*"',
  })
  eventTypes: string[];

  @ApiPropertyOptional({
    description: 'Only events from these sources; absent or null means every source.',
    example: ['src_01JD3Q6Y8M2V4N6P8R0T2W4Y6A'],
    type: [String],
    nullable: true,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  sourceIds?: string[] | null;

  @ApiPropertyOptional({
    description:
      'A MongoDB-style query (sift) on the canonical event; only matching events are delivered. ' +
      '`$where`, `$expr` and `$function` are refused.',
    example: { 'conversation.channel.type': 'whatsapp', 'message.direction': 'inbound' },
    type: Object,
    nullable: true,
  })
  @IsOptional()
  @IsContentFilter()
  filter?: Record<string, unknown> | null;

  @ApiPropertyOptional({
    description:
      'A JSONata expression applied to the canonical event to make the body; implies payloadFormat "transformed".',
    example: '{ "date": occurredAt, "name": contact.name, "text": message.text }',
    type: String,
    nullable: true,
  })
  @IsOptional()
  @IsTransform()
  transform?: string | null;

  @ApiPropertyOptional({
    description:
      'canonical: the canonical event; raw: the body the source sent; transformed: the transform output.',
    enum: PAYLOAD_FORMATS,
    example: 'canonical',
  })
  @IsOptional()
  @IsIn(PAYLOAD_FORMATS)
  payloadFormat?: PayloadFormat;

  @ApiPropertyOptional({
    description:
      'Extra request headers sent with every delivery. Not allowed: content-type and webhook-* ' +
      '(set by the router), host, content-length, transfer-encoding, connection, keep-alive, ' +
      'proxy-connection, te, trailer, upgrade, expect; names that are not HTTP tokens; values ' +
      'with control characters. Values are shown in the create answer only, masked on reads; ' +
      'a masked value sent back (PATCH) keeps the value it masks.',
    example: { 'x-api-token': 'crm-token' },
    type: Object,
  })
  @IsOptional()
  @IsObject()
  @IsHeaderMap()
  headers?: Record<string, string>;

  @ApiPropertyOptional({
    description: 'A `whsec_` secret of your own; one is generated when absent.',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  @IsOptional()
  @Matches(SIGNING_SECRET_PATTERN, { message: SIGNING_SECRET_MESSAGE })
  secret?: string;

  @ApiPropertyOptional({ type: RetryPolicyDto, nullable: true })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RetryPolicyDto)
  retryPolicy?: RetryPolicyDto | null;

  @ApiPropertyOptional({
    description: 'Per-attempt timeout in milliseconds (default 15000).',
    example: 10000,
    minimum: 100,
    maximum: 60000,
    type: Number,
    nullable: true,
  })
  @IsOptional()
  @IsInt()
  @Min(100)
  @Max(60_000)
  timeoutMs?: number | null;

  @ApiPropertyOptional({
    description: 'At most `max` deliveries per `perSeconds`, across all workers.',
    type: RateLimitDto,
    nullable: true,
  })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => RateLimitDto)
  rateLimit?: RateLimitDto | null;

  @ApiPropertyOptional({
    description:
      'Consecutive dead deliveries after which the subscription is disabled (0: never; default 10).',
    example: 10,
    type: Number,
    nullable: true,
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000)
  disableAfterDeadDeliveries?: number | null;

  @ApiPropertyOptional({
    description:
      'conversation: the deliveries of one conversation are sent one at a time, in the order the ' +
      'router accepted their webhooks (docs/ordering.md); events without a conversation are not ' +
      'held back. none: each delivery is sent as soon as it is ready.',
    enum: ORDERINGS,
    default: 'none',
    example: 'conversation',
  })
  @IsOptional()
  @IsIn(ORDERINGS)
  ordering?: Ordering;

  @ApiPropertyOptional({
    description:
      'With ordering "conversation", what a dead head does: release the next delivery of its ' +
      'conversation (recorded on it), or block the conversation until an operator re-drives or ' +
      'skips the head.',
    enum: ON_DEAD_ACTIONS,
    default: 'release',
    example: 'release',
  })
  @IsOptional()
  @IsIn(ON_DEAD_ACTIONS)
  onDead?: OnDead;

  @ApiPropertyOptional({ example: true, default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
