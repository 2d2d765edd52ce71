import { DeliveryAttemptEntity } from '../delivery/delivery-attempt.entity';
import { DeliveryEntity } from '../delivery/delivery.entity';
import { EventEntity } from '../events/event.entity';
import { SourceEntity } from '../sources/source.entity';
import { SubscriptionEntity } from '../subscriptions/subscription.entity';
import { InitialSchema1763712000000 } from './migrations/1763712000000-InitialSchema';
import { SourceEnrichment1763798400000 } from './migrations/1763798400000-SourceEnrichment';
import { DeliveryPolicies1763884800000 } from './migrations/1763884800000-DeliveryPolicies';
import { RoutesAsCode1764057600000 } from './migrations/1764057600000-RoutesAsCode';
import { SourceSettings1764144000000 } from './migrations/1764144000000-SourceSettings';
import { OrderedDelivery1764316800000 } from './migrations/1764316800000-OrderedDelivery';

export const ENTITIES = [
  SourceEntity,
  SubscriptionEntity,
  EventEntity,
  DeliveryEntity,
  DeliveryAttemptEntity,
];

export const MIGRATIONS = [
  InitialSchema1763712000000,
  SourceEnrichment1763798400000,
  DeliveryPolicies1763884800000,
  RoutesAsCode1764057600000,
  SourceSettings1764144000000,
  OrderedDelivery1764316800000,
];
