import { Module } from '@nestjs/common';
import { CoreModule } from './core.module';
import { DeliveryProcessor } from './delivery/delivery.processor';
import { IngestProcessor } from './events/ingest.processor';

/** The only module that provides processors: whichever process imports it consumes the queues. */
@Module({
  imports: [CoreModule],
  providers: [IngestProcessor, DeliveryProcessor],
})
export class WorkerModule {}
