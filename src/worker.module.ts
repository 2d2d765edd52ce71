import { Module } from '@nestjs/common';
import { ActionsProcessor } from './actions/actions.processor';
import { StrandedActions } from './actions/stranded-actions';
import { ConversationResolver } from './conversations/conversation-resolver';
import { CoreModule } from './core.module';
import { DeliverySender } from './delivery/delivery-sender';
import { DeliveryProcessor } from './delivery/delivery.processor';
import { FirstAttempts } from './delivery/first-attempts';
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
    DeliverySender,
    FirstAttempts,
    WorkerHealthServer,
    MaintenanceProcessor,
    RetentionService,
    ActionsProcessor,
    StrandedActions,
  ],
})
export class WorkerModule {}
