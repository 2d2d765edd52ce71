import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { MANAGED_PROPERTY, ManagedByRoutesFile, managedBy } from '../../common/routes-managed';
import { Settings } from '../../config/settings';
import { resolveRetryPolicy } from '../../policies/retry-policy';
import { maskHeaders, maskUrlCredentials } from '../subscription-credentials';
import {
  ON_DEAD_ACTIONS,
  OnDead,
  ORDERINGS,
  Ordering,
  PAYLOAD_FORMATS,
  PayloadFormat,
  SubscriptionEntity,
} from '../subscription.entity';

class EffectiveRetryPolicy {
  @ApiProperty({ example: 8 })
  maxAttempts: number;

  @ApiProperty({ example: [5, 300, 1800, 7200, 18000, 36000, 36000], type: [Number] })
  schedule: number[];

  @ApiProperty({ description: 'false: the router default applies', example: false })
  custom: boolean;
}

class RateLimitView {
  @ApiProperty({ example: 5 })
  max: number;

  @ApiProperty({ example: 1 })
  perSeconds: number;
}

/**
 * A subscription as the API shows it: effective policies; the signing secret only on create and
 * rotate, header values and URL credentials only on create.
 */
export class SubscriptionResponse {
  @ApiProperty({ example: 'sub_01JD3QB1S5Z3T9K8YQ4V2M7N6P' })
  id: string;

  @ApiProperty({ example: 'Pipedrive notes' })
  name: string;

  @ApiProperty({
    example: 'https://crm.example.com/hooks/chat',
    description:
      'Credentials in the URL (`https://user:pass@…`) are shown in the create answer only; reads ' +
      'mask them as `https://…:…@…`',
  })
  url: string;

  @ApiProperty({ example: ['message.*', 'conversation.ended'], type: [String] })
  eventTypes: string[];

  @ApiProperty({ example: null, type: [String], nullable: true })
  sourceIds: string[] | null;

  @ApiProperty({
    example: { 'conversation.channel.type': 'whatsapp' },
    type: Object,
    nullable: true,
  })
  filter: Record<string, unknown> | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  transform: string | null;

  @ApiProperty({ enum: PAYLOAD_FORMATS, example: 'canonical' })
  payloadFormat: PayloadFormat;

  @ApiProperty({
    example: { Authorization: '…Xk2q', 'X-Tenant': '…' },
    type: Object,
    description:
      'Values are shown in the create answer only; reads mask them (`…` and the last 4 ' +
      'characters of values of 16 or more)',
  })
  headers: Record<string, string>;

  @ApiProperty({ type: EffectiveRetryPolicy })
  retryPolicy: EffectiveRetryPolicy;

  @ApiProperty({ description: 'Effective per-attempt timeout', example: 15000 })
  timeoutMs: number;

  @ApiProperty({ type: RateLimitView, nullable: true })
  rateLimit: RateLimitView | null;

  @ApiProperty({ description: 'Effective threshold (0: never)', example: 10 })
  disableAfterDeadDeliveries: number;

  @ApiProperty({ example: 0 })
  consecutiveDeadDeliveries: number;

  @ApiProperty({ enum: ORDERINGS, example: 'conversation' })
  ordering: Ordering;

  @ApiProperty({ enum: ON_DEAD_ACTIONS, example: 'release' })
  onDead: OnDead;

  @ApiProperty({ example: true })
  enabled: boolean;

  @ApiProperty({
    description: 'Why the router disabled it; null when enabled or disabled by hand',
    example: null,
    nullable: true,
    type: String,
  })
  disabledReason: string | null;

  @ApiProperty({ example: null, nullable: true, type: String })
  disabledAt: string | null;

  @ApiProperty({
    description: 'Until when the secret replaced by the last rotation still signs deliveries',
    example: null,
    nullable: true,
    type: String,
  })
  previousSecretExpiresAt: string | null;

  @ApiPropertyOptional({
    description: 'The signing secret: present only on create and rotate',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  })
  secret?: string;

  @ApiProperty(MANAGED_PROPERTY)
  managed: ManagedByRoutesFile | null;

  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' })
  updatedAt: string;
}

/**
 * `revealed.secret` is the signing secret to show (create and rotate); `revealed.credentials`
 * shows header values and URL credentials unmasked (create only).
 */
export function toSubscriptionResponse(
  subscription: SubscriptionEntity,
  settings: Settings,
  revealed: { secret?: string; credentials?: boolean } = {},
): SubscriptionResponse {
  const retry = resolveRetryPolicy(subscription, settings.DELIVERY_RETRY_SCHEDULE);
  const previousExpiry = subscription.previousSecretExpiresAt;
  return {
    id: subscription.id,
    name: subscription.name,
    url: revealed.credentials ? subscription.url : maskUrlCredentials(subscription.url),
    eventTypes: subscription.eventTypes,
    sourceIds: subscription.sourceIds,
    filter: subscription.filter,
    transform: subscription.transform,
    payloadFormat: subscription.payloadFormat,
    headers: revealed.credentials ? subscription.headers : maskHeaders(subscription.headers),
    retryPolicy: {
      maxAttempts: retry.maxAttempts,
      schedule: retry.scheduleSeconds,
      custom: subscription.maxAttempts !== null || subscription.retrySchedule !== null,
    },
    timeoutMs: subscription.timeoutMs ?? settings.DELIVERY_TIMEOUT_MS,
    rateLimit:
      subscription.rateLimitMax && subscription.rateLimitPerSeconds
        ? { max: subscription.rateLimitMax, perSeconds: subscription.rateLimitPerSeconds }
        : null,
    disableAfterDeadDeliveries:
      subscription.disableAfterDead ?? settings.SUBSCRIPTION_DISABLE_AFTER_DEAD,
    consecutiveDeadDeliveries: subscription.consecutiveDead,
    ordering: subscription.ordering,
    onDead: subscription.onDead,
    enabled: subscription.enabled,
    disabledReason: subscription.disabledReason,
    disabledAt: subscription.disabledAt?.toISOString() ?? null,
    previousSecretExpiresAt:
      previousExpiry && previousExpiry.getTime() > Date.now() ? previousExpiry.toISOString() : null,
    ...(revealed.secret ? { secret: revealed.secret } : {}),
    managed: managedBy(subscription.routesKey),
    createdAt: subscription.createdAt.toISOString(),
    updatedAt: subscription.updatedAt.toISOString(),
  };
}
