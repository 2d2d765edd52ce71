import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { Settings } from '../config/settings';
import { ACTION_QUEUE, DELIVERY_QUEUE, INGEST_QUEUE, MAINTENANCE_QUEUE } from './queue-names';
import { redisOptionsFromUrl } from './redis-connection';

/** The BullMQ connection and queue handles shared by the API (producer) and worker roles. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [Settings],
      useFactory: (settings: Settings) => ({
        connection: redisOptionsFromUrl(settings.REDIS_URL),
        prefix: settings.QUEUE_PREFIX,
      }),
    }),
    BullModule.registerQueue(
      { name: INGEST_QUEUE },
      { name: DELIVERY_QUEUE },
      { name: MAINTENANCE_QUEUE },
      { name: ACTION_QUEUE },
    ),
  ],
  exports: [BullModule],
})
export class QueuesModule {}
