import {
  ContactEntity,
  ContactIdentityEntity,
  ContactLinkEntity,
} from '../conversations/contact.entity';
import { ConversationMessageEntity } from '../conversations/conversation-message.entity';
import { ConversationEntity } from '../conversations/conversation.entity';
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
import { Conversations1764230400000 } from './migrations/1764230400000-Conversations';
import { ConversationMessageTimes1764230400001 } from './migrations/1764230400001-ConversationMessageTimes';
import { ConversationStateVersion1764230400002 } from './migrations/1764230400002-ConversationStateVersion';

export const ENTITIES = [
  SourceEntity,
  SubscriptionEntity,
  EventEntity,
  DeliveryEntity,
  DeliveryAttemptEntity,
  ConversationEntity,
  ConversationMessageEntity,
  ContactEntity,
  ContactIdentityEntity,
  ContactLinkEntity,
];

export const MIGRATIONS = [
  InitialSchema1763712000000,
  SourceEnrichment1763798400000,
  DeliveryPolicies1763884800000,
  RoutesAsCode1764057600000,
  SourceSettings1764144000000,
  Conversations1764230400000,
  ConversationMessageTimes1764230400001,
  ConversationStateVersion1764230400002,
];
