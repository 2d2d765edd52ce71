import { Processor, WorkerHost } from '@nestjs/bullmq';
import { OnApplicationBootstrap } from '@nestjs/common';
import { Job, UnrecoverableError } from 'bullmq';
import { Settings } from '../config/settings';
import { IngestWatermark } from '../delivery/ingest-watermark';
import { INGEST_QUEUE, IngestJobData, IngestJobName } from '../queues/queue-names';
import { StoreAndRouteService } from './store-and-route.service';

@Processor(INGEST_QUEUE)
export class IngestProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly ingest: StoreAndRouteService,
    private readonly settings: Settings,
    private readonly watermark: IngestWatermark,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.settings.INGEST_CONCURRENCY;
    // Ordered heads waiting for earlier webhooks look again as soon as one is stored here.
    this.worker.on('completed', (job) => this.watermark.ingestFinished(job.id));
    this.worker.on('failed', (job) => this.watermark.ingestFinished(job?.id));
  }

  async process(job: Job<IngestJobData, void, IngestJobName>): Promise<void> {
    switch (job.name) {
      case 'webhook.received':
        return this.ingest.storeAndRoute(job.data);
      default: {
        const unknown: never = job.name;
        throw new UnrecoverableError(`unknown ingest job ${String(unknown)}`);
      }
    }
  }
}
