import { Module } from '@nestjs/common';
import { ConversationResolver } from './conversations/conversation-resolver';
import { CoreModule } from './core.module';
import { DeliveryProcessor } from './delivery/delivery.processor';
import { IngestProcessor } from './ingest/ingest.processor';
import { StoreAndRouteService } from './ingest/store-and-route.service';
import { StoredEventWriter } from './ingest/stored-event-writer';
import { MaintenanceProcessor } from './maintenance/maintenance.processor';
import { RetentionService } from './maintenance/retention.service';
import { WorkerHealthServer } from './monitoring/worker-health-server';

/** The only module that provides processors: whichever process imports it consumes the queues. */
@Module({
  imports: [CoreModule],
  providers: [
    IngestProcessor,
    StoreAndRouteService,
    StoredEventWriter,
    ConversationResolver,
    DeliveryProcessor,
    WorkerHealthServer,
    MaintenanceProcessor,
    RetentionService,
  ],
})
export class WorkerModule {}
