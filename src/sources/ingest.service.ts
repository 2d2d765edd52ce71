import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { isRecord } from '../canonical/coerce';
import { AppError } from '../common/app-error';
import { newId } from '../common/ids';
import { UnparseableBody } from '../common/raw-body';
import { Settings } from '../config/settings';
import { INGEST_QUEUE, IngestJobData, IngestJobName } from '../queues/queue-names';
import { SourceRegistry } from './source-registry';
import { SourcesService } from './sources.service';

export interface InboundWebhook {
  kind: string;
  token: string;
  rawBody: Buffer | undefined;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

const INGEST_ATTEMPTS = 15;

/**
 * The ingest path, kept to the minimum: authenticate, parse, enqueue, answer. Storing,
 * normalizing and routing happen in the worker.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    private readonly registry: SourceRegistry,
    private readonly sources: SourcesService,
    private readonly settings: Settings,
    @InjectQueue(INGEST_QUEUE) private readonly queue: Queue<IngestJobData, void, IngestJobName>,
  ) {}

  async accept(webhook: InboundWebhook): Promise<unknown> {
    const normalizer = this.registry.get(webhook.kind);
    const source = normalizer ? await this.sources.authenticate(webhook.kind, webhook.token) : null;
    if (!normalizer || !source) throw new AppError('not_found', 'Unknown webhook endpoint');

    if (webhook.body instanceof UnparseableBody) {
      throw new AppError('invalid_json', webhook.body.reason);
    }
    if (!isRecord(webhook.body) || !webhook.rawBody) {
      throw new AppError('invalid_body', 'Body must be a JSON object');
    }
    const request = { rawBody: webhook.rawBody, headers: webhook.headers, payload: webhook.body };
    const verdict = normalizer.verify(request, source, new Date());
    if (!verdict.ok) throw new AppError('signature_invalid', verdict.reason);

    const eventId = newId('evt');
    await this.enqueue({
      eventId,
      sourceId: source.id,
      sourceKind: source.kind,
      sourceDeliveryId: normalizer.deliveryId(request, source),
      receivedAt: new Date().toISOString(),
      rawBody: webhook.rawBody.toString('utf8'),
    });
    return normalizer.acceptedResponse(eventId);
  }

  /** Resolves once Redis has the job; answers 503 rather than 200 for anything not stored. */
  private async enqueue(data: IngestJobData): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('timed out waiting for Redis')),
        this.settings.INGEST_ENQUEUE_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([
        this.queue.add('webhook.received', data, {
          jobId: data.eventId,
          attempts: INGEST_ATTEMPTS,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { age: 3600, count: 10_000 },
          removeOnFail: { age: 30 * 24 * 3600 },
        }),
        timeout,
      ]);
    } catch (error) {
      this.logger.error(`Could not queue event ${data.eventId}: ${(error as Error).message}`);
      throw new AppError('queue_unavailable', 'The event could not be stored; retry later');
    } finally {
      clearTimeout(timer);
    }
  }
}
