import { Module } from '@nestjs/common';
import { CoreModule } from './core.module';
import { DeliveryProcessor } from './delivery/delivery.processor';
import { IngestProcessor } from './events/ingest.processor';
import { MaintenanceProcessor } from './maintenance/maintenance.processor';
import { RetentionService } from './maintenance/retention.service';
import { WorkerHealthServer } from './monitoring/worker-health-server';

/** The only module that provides processors: whichever process imports it consumes the queues. */
@Module({
  imports: [CoreModule],
  providers: [
    IngestProcessor,
    DeliveryProcessor,
    WorkerHealthServer,
    MaintenanceProcessor,
    RetentionService,
  ],
})
export class WorkerModule {}
