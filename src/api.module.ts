import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ActionsController, ConversationActionsController } from './actions/actions.controller';
import { AdminKeyGuard } from './auth/admin-key.guard';
import { ApiKeysController } from './auth/api-keys.controller';
import { ApiKeysService } from './auth/api-keys.service';
import {
  ContactsController,
  ConversationsController,
} from './conversations/conversations.controller';
import { ConversationsService } from './conversations/conversations.service';
import { ContactEnrichment } from './conversations/contact-enrichment';
import { CoreModule } from './core.module';
import { DeliveriesController } from './delivery/deliveries.controller';
import { OrderedLanesController } from './delivery/ordered-lanes.controller';
import { TestSendController } from './delivery/test-send.controller';
import { EventsController } from './events/events.controller';
import { Playground } from './events/playground';
import { PlaygroundController } from './events/playground.controller';
import { DedupeStore } from './ingest/dedupe-store';
import { EnrichmentClient } from './ingest/enrichment.client';
import { AcceptClock } from './queues/accept-clock';
import { IngestService } from './ingest/ingest.service';
import { FailedIngestJobs } from './monitoring/failed-ingest-jobs';
import { HealthController } from './monitoring/health.controller';
import { MetricsController } from './monitoring/metrics.controller';
import { OverviewController } from './overview/overview.controller';
import { OverviewService } from './overview/overview.service';
import { QueuesController } from './monitoring/queues.controller';
import { RoutesAsCodeModule } from './routes-as-code/routes-as-code.module';
import { SourcesController } from './sources/sources.controller';
import { SubscriptionsController } from './subscriptions/subscriptions.controller';
import { TestSend } from './delivery/test-send';

/**
 * HTTP: the admin API, and the services of the inbound webhook route (mounted on Fastify by
 * bootstrap.ts). Produces jobs; consumes none.
 */
@Module({
  imports: [CoreModule, RoutesAsCodeModule],
  controllers: [
    SourcesController,
    SubscriptionsController,
    TestSendController,
    EventsController,
    PlaygroundController,
    OverviewController,
    ConversationsController,
    ContactsController,
    DeliveriesController,
    OrderedLanesController,
    QueuesController,
    HealthController,
    MetricsController,
    ConversationActionsController,
    ActionsController,
    ApiKeysController,
  ],
  providers: [
    IngestService,
    AcceptClock,
    ConversationsService,
    ContactEnrichment,
    TestSend,
    Playground,
    OverviewService,
    DedupeStore,
    EnrichmentClient,
    FailedIngestJobs,
    ApiKeysService,
    { provide: APP_GUARD, useClass: AdminKeyGuard },
  ],
})
export class ApiModule {}
