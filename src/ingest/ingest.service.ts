import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import { isRecord, JsonRecord } from '../canonical/coerce';
import { AcceptClock } from '../queues/accept-clock';
import { canonicalEventOf } from './canonical-of';
import { AppError } from '../common/app-error';
import { derivedId, newId } from '../common/ids';
import { UnparseableBody } from '../common/raw-body';
import { Settings } from '../config/settings';
import { INGEST_QUEUE, IngestJobData, IngestJobName } from '../queues/queue-names';
import { DedupeStore } from './dedupe-store';
import { EnrichmentClient } from './enrichment.client';
import { ContactEnrichment } from '../conversations/contact-enrichment';
import { CanonicalEvent } from '../canonical/canonical-event';
import { SignedRequest, SourceNormalizer } from '../sources/source-normalizer';
import { SourceRegistry } from '../sources/source-registry';
import { AuthenticatedSource, SourcesService } from '../sources/sources.service';

export interface InboundWebhook {
  kind: string;
  token: string;
  rawBody: Buffer | undefined;
  /** rawBody decoded, when the body parser has done it already. */
  rawText?: string;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** What the sender is answered, and the event its webhook is (or already was) queued as. */
export interface AcceptedWebhook {
  eventId: string;
  response: unknown;
}

/** The options every ingest job is added with, beside its id and dedupe id: one object for all. */
const INGEST_JOB_OPTIONS = Object.freeze({
  attempts: 15,
  backoff: Object.freeze({ type: 'exponential', delay: 1000 }),
  removeOnComplete: Object.freeze({ age: 3600, count: 10_000 }),
  removeOnFail: Object.freeze({ age: 30 * 24 * 3600 }),
});

/**
 * The ingest path, kept to the minimum: authenticate, parse, enqueue (which drops duplicates in
 * the same Redis call), answer. Storing, normalizing and routing happen in the worker. The one exception is a
 * sender that shows our answer to its agent (Jivo), whose reply may be enriched in time.
 */
@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);

  constructor(
    private readonly registry: SourceRegistry,
    private readonly sources: SourcesService,
    private readonly dedupe: DedupeStore,
    private readonly enrichment: EnrichmentClient,
    private readonly contactEnrichment: ContactEnrichment,
    private readonly settings: Settings,
    private readonly acceptClock: AcceptClock,
    @InjectQueue(INGEST_QUEUE) private readonly queue: Queue<IngestJobData, void, IngestJobName>,
  ) {}

  async accept(webhook: InboundWebhook): Promise<AcceptedWebhook> {
    // The token first, whatever the kind: an unknown kind takes as long as an unknown token.
    const source = await this.sources.authenticate(webhook.kind, webhook.token);
    const normalizer = source ? this.registry.get(source.kind) : undefined;
    if (!source || !normalizer) throw new AppError('not_found', 'Unknown webhook endpoint');

    if (webhook.body instanceof UnparseableBody) {
      throw new AppError('invalid_json', webhook.body.reason);
    }
    if (!isRecord(webhook.body) || !webhook.rawBody) {
      throw new AppError('invalid_body', 'Body must be a JSON object');
    }
    const request = { rawBody: webhook.rawBody, headers: webhook.headers, payload: webhook.body };
    const verdict = normalizer.verify(request, source, new Date());
    if (!verdict.ok) throw new AppError('signature_invalid', verdict.reason);

    const received: Omit<IngestJobData, 'receivedAt'> = {
      eventId: eventIdFor(source.id, verdict.signed),
      sourceId: source.id,
      sourceKind: source.kind,
      sourceDeliveryId: normalizer.deliveryId(request, source),
      rawBody: webhook.rawText ?? webhook.rawBody.toString('utf8'),
    };
    const dedupeId = this.dedupe.idFor(source.id, received.sourceDeliveryId, webhook.rawBody);
    const { job, queuedAs } = await this.withinBudget(
      this.enqueue(received, dedupeId),
      this.settings.INGEST_ENQUEUE_TIMEOUT_MS,
      received.eventId,
    );
    // Enriched replies are remembered for the duplicates; every other reply follows from the id.
    const budgetMs = (source.enrichment ?? source.builtinEnrichment)?.timeoutMs ?? null;
    const remembered = budgetMs !== null && dedupeId !== null;
    if (queuedAs !== job.eventId) {
      const first = remembered
        ? await this.dedupe.recallReply(queuedAs, budgetMs + 1000)
        : undefined;
      return { eventId: queuedAs, response: first ?? normalizer.acceptedResponse(queuedAs) };
    }
    const response = await this.reply(normalizer, source, webhook.body, job);
    if (remembered) await this.dedupe.rememberReply(job.eventId, response).catch(() => undefined);
    return { eventId: job.eventId, response };
  }

  /**
   * The answer to the sender, when enrichment applies: by the source's endpoint when it has
   * one, else from what the router knows (builtinEnrichment), within the same budget.
   */
  private async reply(
    normalizer: SourceNormalizer,
    source: AuthenticatedSource,
    payload: JsonRecord,
    job: IngestJobData,
  ): Promise<unknown> {
    const plain = normalizer.acceptedResponse(job.eventId);
    const enrichment = normalizer.replyEnrichment;
    if (!(source.enrichment || source.builtinEnrichment) || !enrichment?.appliesTo(payload)) {
      return plain;
    }
    const built = canonicalEventOf(job, payload, this.registry);
    if (built.status !== 'ok') return plain;
    const answer = source.enrichment
      ? await this.enrichment.ask(source.enrichment, built.event)
      : await this.builtin(built.event, source.builtinEnrichment!.timeoutMs);
    return (answer === null ? null : enrichment.toResponse(answer)) ?? plain;
  }

  /** The built-in answer, or null when it fails or does not come within the budget. */
  private async builtin(event: CanonicalEvent, budgetMs: number): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), budgetMs);
    });
    try {
      return await Promise.race([
        this.contactEnrichment.answerFor(event).catch((error: unknown) => {
          this.logger.warn(
            `Built-in enrichment for ${event.id} failed: ${error instanceof Error ? error.message : String(error)}`,
          );
          return null;
        }),
        budget,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stamps the webhook with its accept time and queues its job; answers the job and the id it is
   * queued as, the first's when it is a duplicate. The job's timestamp is the accept time, which
   * ordered delivery's watermark reads.
   */
  private async enqueue(
    received: Omit<IngestJobData, 'receivedAt'>,
    dedupeId: string | null,
  ): Promise<{ job: IngestJobData; queuedAs: string }> {
    const acceptedAt = await this.acceptClock.accept(received.eventId);
    const job: IngestJobData = { ...received, receivedAt: new Date(acceptedAt).toISOString() };
    try {
      const queued = await this.queue.add('webhook.received', job, {
        ...INGEST_JOB_OPTIONS,
        jobId: job.eventId,
        timestamp: acceptedAt,
        ...(dedupeId ? { deduplication: { id: dedupeId, ttl: this.dedupe.windowMs } } : {}),
      });
      return { job, queuedAs: queued.id ?? job.eventId };
    } finally {
      this.acceptClock.queued(job.eventId);
    }
  }

  /** Redis must answer within the budget; otherwise 503, never a 200 for something not stored. */
  private async withinBudget<T>(work: Promise<T>, budgetMs: number, eventId: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out waiting for Redis')), budgetMs + 100);
    });
    try {
      return await Promise.race([work, timeout]);
    } catch (error) {
      if (error instanceof AppError) throw error;
      this.logger.error(`Could not queue event ${eventId}: ${(error as Error).message}`);
      throw new AppError('queue_unavailable', 'The event could not be stored; retry later');
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * A signed webhook's event id follows from its signature. Resent as it is (a replay, with a new
 * or no delivery id), it is queued under the same job id, which BullMQ answers with the first's
 * in the call that also checks the dedupe id; once that job is gone, Postgres stores the id
 * once. The id's time is the signing time. Anything else gets a fresh id.
 */
export function eventIdFor(sourceId: string, signed: SignedRequest | undefined): string {
  if (!signed) return newId('evt');
  const digest = createHash('sha256').update(`${sourceId}:${signed.signature}`).digest();
  return derivedId('evt', signed.signedAt, digest);
}
