import { CanonicalEventBody } from '../canonical/canonical-event';
import { JsonRecord } from '../canonical/coerce';
import { PlatformActions } from './source-actions';
import { ConfiguredSource, SourceSettingsDeclaration } from './source-settings';

/** The multi-provider token under which every source plug-in is registered. */
export const SOURCE_NORMALIZERS = Symbol('SOURCE_NORMALIZERS');

/** An inbound request as the ingest path sees it: raw bytes for signatures, parsed JSON. */
export interface InboundRequest {
  rawBody: Buffer;
  /** Lower-cased header names, as Node delivers them. */
  headers: Record<string, string | string[] | undefined>;
  payload: JsonRecord;
}

export type VerificationResult =
  { ok: true; signed?: SignedRequest } | { ok: false; reason: string };

/**
 * A request whose signature was checked. Resent as it is (a replay, whatever its unsigned
 * headers say), it carries the same signature, so it is the same webhook.
 */
export interface SignedRequest {
  /** The verified signature: unique to the signed bytes (for Chatwoot, timestamp and body). */
  signature: string;
  /** When the sender signed it. */
  signedAt: Date;
}

export type NormalizeResult =
  { status: 'ok'; event: CanonicalEventBody } | { status: 'unprocessable'; reason: string };

/** Context a normalizer needs to build stable keys: which configured source the payload came from. */
export interface NormalizeContext {
  sourceId: string;
  kind: string;
}

/**
 * One source kind (Jivo, Chatwoot, …). `verify` and `deliveryId` run on the ingest path and
 * must stay cheap; `normalize` runs in the worker, is pure, and never throws on a JSON object.
 * `Settings`: what a source of this kind is configured with, declared by `settings`.
 */
export interface SourceNormalizer<Settings extends object = object> {
  readonly kind: string;
  /** The settings a source of this kind takes; none when absent. */
  readonly settings?: SourceSettingsDeclaration<Settings>;
  verify(
    request: InboundRequest,
    source: ConfiguredSource<Settings>,
    now: Date,
  ): VerificationResult;
  /** The sender's own delivery id when it sends one (used for dedupe), else null. */
  deliveryId(request: InboundRequest, source: ConfiguredSource<Settings>): string | null;
  normalize(payload: JsonRecord, context: NormalizeContext): NormalizeResult;
  /** The body answered to the sender once the event is durably queued. */
  acceptedResponse(eventId: string): unknown;
  /** For senders that show our answer to their agent (Jivo): how to ask a user's endpoint for it. */
  readonly replyEnrichment?: ReplyEnrichment;
  /** What the action API can do on this kind's conversations; none when absent. */
  readonly actions?: PlatformActions<Settings>;
}

/**
 * A source whose answer is shown to the sender's agent lets the router ask the user's own
 * endpoint (a CRM) for that answer, synchronously and within a time budget.
 */
export interface ReplyEnrichment {
  /** Whether the answer to this payload is shown to the agent, so worth enriching. */
  appliesTo(payload: JsonRecord): boolean;
  /** The answer to the sender built from the endpoint's JSON answer; null when it is unusable. */
  toResponse(answer: unknown): unknown;
}
