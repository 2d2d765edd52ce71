import { OmitType, PartialType } from '@nestjs/swagger';
import { CreateSubscriptionDto } from './create-subscription.dto';

/**
 * Every field optional; null clears a nullable one (filter, transform, sourceIds, retryPolicy,
 * timeoutMs, rateLimit, disableAfterDeadDeliveries). The secret changes only by rotation.
 */
export class UpdateSubscriptionDto extends PartialType(
  OmitType(CreateSubscriptionDto, ['secret'] as const),
) {}
