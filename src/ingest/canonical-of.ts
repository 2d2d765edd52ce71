import { buildCanonicalEvent } from '../canonical/build-event';
import { CanonicalEvent } from '../canonical/canonical-event';
import { isRecord, JsonRecord } from '../canonical/coerce';
import { parseRaw } from '../common/raw-body';
import { IngestJobData } from '../queues/queue-names';
import { SourceRegistry } from '../sources/source-registry';

/** An ingest job's canonical event with the JSON text stored and sent, or why there is none. */
export type CanonicalOutcome =
  | { status: 'ok'; event: CanonicalEvent; json: string }
  | { status: 'unprocessable'; reason: string };

/**
 * Normalizes and serialises an ingest job's body. Never throws: what fails here fails the same
 * on every retry, so it becomes an unprocessable event stored with its raw body, not a job that
 * exhausts its attempts and stores nothing.
 */
export function canonicalOf(job: IngestJobData, registry: SourceRegistry): CanonicalOutcome {
  const built = normalizedOf(job, registry);
  return built.status === 'ok' ? serialized(built.event) : built;
}

/** The job's canonical event before it is serialised (the worker adds the router's ids). */
export function normalizedOf(
  job: IngestJobData,
  registry: SourceRegistry,
): { status: 'ok'; event: CanonicalEvent } | { status: 'unprocessable'; reason: string } {
  try {
    const payload = parseRaw(job.rawBody);
    if (!isRecord(payload)) return { status: 'unprocessable', reason: 'body is not a JSON object' };
    return canonicalEventOf(job, payload, registry);
  } catch (error) {
    return { status: 'unprocessable', reason: couldNotBeMade(error) };
  }
}

/** The event with the JSON text stored and sent. */
export function serialized(event: CanonicalEvent): CanonicalOutcome {
  try {
    return { status: 'ok', event, json: JSON.stringify(event) };
  } catch (error) {
    return { status: 'unprocessable', reason: couldNotBeMade(error) };
  }
}

function couldNotBeMade(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `the canonical event could not be made: ${message}`;
}

/**
 * The job's payload as its canonical event, with the router's envelope (event id, times,
 * source), or the plug-in's reason for none. Used by the worker and by the API's enriched reply.
 */
export function canonicalEventOf(
  job: IngestJobData,
  payload: JsonRecord,
  registry: SourceRegistry,
): { status: 'ok'; event: CanonicalEvent } | { status: 'unprocessable'; reason: string } {
  const normalized = registry.normalize(job.sourceKind, payload, {
    sourceId: job.sourceId,
    kind: job.sourceKind,
  });
  if (normalized.status !== 'ok') return normalized;
  const event = buildCanonicalEvent(normalized.event, {
    id: job.eventId,
    receivedAt: job.receivedAt,
    source: { kind: job.sourceKind, id: job.sourceId, deliveryId: job.sourceDeliveryId },
  });
  return { status: 'ok', event };
}
