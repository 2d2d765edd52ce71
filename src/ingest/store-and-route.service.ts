import { Injectable } from '@nestjs/common';
import { newId } from '../common/ids';
import { ConversationResolver, ResolvedIds } from '../conversations/conversation-resolver';
import { DeliveryProducer } from '../delivery/delivery-producer';
import { FirstAttempts } from '../delivery/first-attempts';
import { IngestWatermark } from '../delivery/ingest-watermark';
import { OrderedLanes } from '../delivery/ordered-lanes';
import { EventToStore } from '../events/events.repository';
import { MetricsService } from '../monitoring/metrics.service';
import { IngestJobData } from '../queues/queue-names';
import { SubscriptionMatcher } from '../routing/subscription-matcher';
import { SourceRegistry } from '../sources/source-registry';
import { normalizedOf, serialized } from './canonical-of';
import { RESOLVE_AGAIN, StoredEventWriter } from './stored-event-writer';

/** The worker's half of ingest, run by the ingest processor for each queued webhook. */
@Injectable()
export class StoreAndRouteService {
  constructor(
    private readonly registry: SourceRegistry,
    private readonly matcher: SubscriptionMatcher,
    private readonly resolver: ConversationResolver,
    private readonly writer: StoredEventWriter,
    private readonly producer: DeliveryProducer,
    private readonly metrics: MetricsService,
    private readonly lanes: OrderedLanes,
    private readonly firstAttempts: FirstAttempts,
    private readonly watermark: IngestWatermark,
  ) {}

  /**
   * Normalize, give the event the router's conversation and contact ids, store it beside its
   * raw bytes (applying it to its conversation), create one delivery per matching
   * subscription, and make their first attempts (an ordered one waits in its conversation's lane
   * unless it starts as the lane's head).
   * Safe to run twice for the same job.
   */
  async storeAndRoute(job: IngestJobData): Promise<void> {
    let written = await this.stored(job, false);
    // Resolved from memory another worker (or a merge) made out of date, or a new identity
    // joined meanwhile to another worker's: nothing was written.
    if (written.stored === RESOLVE_AGAIN) written = await this.stored(job, true);
    const { stored, heads, deliveries, canonicalJson } = written;
    if (stored === RESOLVE_AGAIN)
      throw new Error(`event ${job.eventId}: resolved twice from out-of-date ids`);
    // Ordered heads of this process accepted after it need not wait for its job to finish.
    this.watermark.stored(job.eventId);
    // Not stored: a retried job (or a replayed signed webhook) whose statement had committed;
    // queue what no job holds and this process is not sending.
    if (!stored) {
      const stranded = await this.producer.strandedOfEvent(job.eventId);
      await this.producer.enqueueFirstAttempts(
        job.eventId,
        this.firstAttempts.notInFlight(stranded),
      );
    }
    // Held behind an unfinished delivery of its conversation: promoted if that one is through.
    const lanes = deliveries.flatMap(({ id, subscriptionId, laneKey }) =>
      laneKey && !heads.has(id) ? [{ subscriptionId, laneKey }] : [],
    );
    if (!stored) await this.lanes.releaseHeldOfEvent(job.eventId);
    else if (lanes.length > 0) await this.lanes.releaseHeldOfEvent(job.eventId, lanes);
    // Last: once the sends are under way nothing here can fail and run the job again.
    if (stored && canonicalJson !== null) {
      await this.firstAttempts.start(
        {
          eventId: job.eventId,
          canonicalJson,
          rawBody: job.rawBody,
          receivedAt: new Date(job.receivedAt),
        },
        deliveries.filter((delivery) => !delivery.laneKey || heads.has(delivery.id)),
      );
    }
  }

  /** The event normalized, resolved (`read`: not from memory), matched and stored. */
  private async stored(job: IngestJobData, read: boolean) {
    const normalized = normalizedOf(job, this.registry);
    let ids: ResolvedIds | null = null;
    if (normalized.status === 'ok') {
      ids = await this.resolver.resolve(normalized.event, read);
      const { conversation, contact } = normalized.event;
      if (conversation) conversation.id = ids.conversationId;
      if (contact) contact.id = ids.contactId;
    }
    const outcome = normalized.status === 'ok' ? serialized(normalized.event) : normalized;
    const canonical = outcome.status === 'ok' ? outcome.event : null;
    const conversationId = canonical ? (ids?.conversationId ?? null) : null;

    // Matched before the transaction: loading the matcher's index takes a pool connection of its
    // own, which INGEST_CONCURRENCY transactions each holding one would wait for forever.
    const subscriptions = canonical
      ? await this.matcher.match({ type: canonical.type, sourceId: job.sourceId }, canonical)
      : [];
    const conversationKey = indexable(canonical?.conversation?.key);
    const deliveries = subscriptions.map((subscription) => ({
      id: newId('dlv'),
      run: 0,
      subscriptionId: subscription.id,
      // Ordered subscriptions: held in the conversation's lane; events without one are not held.
      laneKey: subscription.ordered ? conversationKey : null,
    }));
    const event: EventToStore = {
      id: job.eventId,
      sourceId: job.sourceId,
      sourceKind: job.sourceKind,
      sourceEvent: indexable(canonical?.source.event),
      sourceDeliveryId: indexable(job.sourceDeliveryId),
      type: canonical?.type ?? null,
      status: canonical ? 'routed' : 'unprocessable',
      error: indexable(outcome.status === 'unprocessable' ? outcome.reason : null),
      conversationKey,
      conversationId,
      occurredAt: canonical?.occurredAt ?? job.receivedAt,
      receivedAt: job.receivedAt,
      rawBody: job.rawBody,
      canonical: outcome.status === 'ok' ? outcome.json : null,
      deliveries,
    };
    const { stored, heads } = await this.writer.write({
      event,
      state:
        canonical && conversationId
          ? {
              event: canonical,
              conversationId,
              identityId: ids?.identityId ?? null,
              contactExternalId: ids?.contactExternalId ?? null,
              snapshot: ids?.snapshot ?? null,
            }
          : null,
      identity: ids?.identityWrite ?? null,
      ids,
    });
    if (stored === true) this.metrics.eventStored(job.sourceKind, canonical?.type ?? null);
    return {
      stored,
      heads,
      deliveries,
      canonicalJson: outcome.status === 'ok' ? outcome.json : null,
    };
  }
}

/**
 * Postgres text cannot hold NUL, which a JSON string may carry as \u0000: the lookup columns
 * drop it (the canonical JSON and raw body keep the value verbatim), or the insert would fail
 * on every retry and the event would never be stored.
 */
function indexable(value: string | null | undefined): string | null {
  return value == null ? null : value.replaceAll(String.fromCharCode(0), '');
}
