import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Settings } from './config/settings';
import { dataSourceOptions } from './database/data-source-options';
import { ENTITIES } from './database/entities';
import { ContactsRepository } from './conversations/contacts.repository';
import { ConversationsRepository } from './conversations/conversations.repository';
import { DeliveriesRepository } from './delivery/deliveries.repository';
import { DeliveriesService } from './delivery/deliveries.service';
import { DeliveryAttempts } from './delivery/delivery-attempts';
import { DeliveryProducer } from './delivery/delivery-producer';
import { SubscriptionHealth } from './delivery/subscription-health';
import { StrandedDeliveries } from './delivery/stranded-deliveries';
import { HttpSender } from './outbound/http-sender';
import { TransformSandboxPool } from './delivery/transform-sandbox';
import { WebhookDispatcher } from './delivery/webhook-dispatcher';
import { EventsRepository } from './events/events.repository';
import { EventsService } from './events/events.service';
import { HealthChecks } from './monitoring/health-checks';
import { MetricsService } from './monitoring/metrics.service';
import { QueueStats } from './monitoring/queue-stats';
import { RedisHealthIndicator } from './monitoring/redis.health';
import { QueuesModule } from './queues/queues.module';
import { SharedRedis } from './queues/shared-redis';
import { SubscriptionMatcher } from './routing/subscription-matcher';
import { SOURCE_PLUGIN_PROVIDERS } from './sources/source-plugins';
import { SourceRegistry } from './sources/source-registry';
import { SourcesRepository } from './sources/sources.repository';
import { SourcesService } from './sources/sources.service';
import { SubscriptionSnapshot } from './subscriptions/subscription-snapshot';
import { SubscriptionsRepository } from './subscriptions/subscriptions.repository';
import { SubscriptionsService } from './subscriptions/subscriptions.service';

const SHARED_PROVIDERS = [
  ...SOURCE_PLUGIN_PROVIDERS,
  SourceRegistry,
  SourcesRepository,
  SourcesService,
  SubscriptionsService,
  SubscriptionsRepository,
  SubscriptionSnapshot,
  SubscriptionMatcher,
  EventsService,
  DeliveriesService,
  DeliveryProducer,
  DeliveryAttempts,
  SubscriptionHealth,
  StrandedDeliveries,
  DeliveriesRepository,
  EventsRepository,
  ConversationsRepository,
  ContactsRepository,
  HttpSender,
  {
    provide: TransformSandboxPool,
    inject: [Settings],
    useFactory: (settings: Settings) =>
      new TransformSandboxPool({
        size: settings.TRANSFORM_SANDBOXES,
        heapMb: settings.TRANSFORM_HEAP_MB,
      }),
  },
  WebhookDispatcher,
  SharedRedis,
  MetricsService,
  QueueStats,
  RedisHealthIndicator,
  HealthChecks,
];

/** The provider graph both roles share: persistence, queues (as producers) and domain services. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [Settings],
      useFactory: (settings: Settings) => dataSourceOptions(settings),
    }),
    TypeOrmModule.forFeature(ENTITIES),
    QueuesModule,
    TerminusModule,
  ],
  providers: SHARED_PROVIDERS,
  exports: [...SHARED_PROVIDERS, QueuesModule],
})
export class CoreModule {}
