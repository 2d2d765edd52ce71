import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AdminKeyGuard } from './auth/admin-key.guard';
import { CoreModule } from './core.module';
import { DeliveriesController } from './delivery/deliveries.controller';
import { EventsController } from './events/events.controller';
import { HealthController } from './monitoring/health.controller';
import { MetricsController } from './monitoring/metrics.controller';
import { QueuesController } from './monitoring/queues.controller';
import { InboundController } from './sources/inbound.controller';
import { DedupeStore } from './sources/dedupe-store';
import { EnrichmentClient } from './sources/enrichment.client';
import { IngestService } from './sources/ingest.service';
import { SourcesController } from './sources/sources.controller';
import { SubscriptionsController } from './subscriptions/subscriptions.controller';

/** HTTP: inbound webhooks and the admin API. Produces jobs; consumes none. */
@Module({
  imports: [CoreModule],
  controllers: [
    InboundController,
    SourcesController,
    SubscriptionsController,
    EventsController,
    DeliveriesController,
    QueuesController,
    HealthController,
    MetricsController,
  ],
  providers: [
    IngestService,
    DedupeStore,
    EnrichmentClient,
    { provide: APP_GUARD, useClass: AdminKeyGuard },
  ],
})
export class ApiModule {}
