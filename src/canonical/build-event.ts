import {
  CANONICAL_SCHEMA_VERSION,
  CanonicalEvent,
  CanonicalEventBody,
  SourceRef,
} from './canonical-event';

export interface EventEnvelopeInput {
  id: string;
  receivedAt: string;
  source: Omit<SourceRef, 'event'>;
}

/** Wraps a normalizer's output in the router's envelope, in the documented field order. */
export function buildCanonicalEvent(
  body: CanonicalEventBody,
  envelope: EventEnvelopeInput,
): CanonicalEvent {
  return {
    id: envelope.id,
    type: body.type,
    schemaVersion: CANONICAL_SCHEMA_VERSION,
    occurredAt: body.occurredAt ?? envelope.receivedAt,
    receivedAt: envelope.receivedAt,
    source: { ...envelope.source, event: body.sourceEvent },
    // The router's ids come first; the worker sets them before routing.
    conversation: body.conversation && { id: null, ...body.conversation },
    contact: body.contact && { id: null, ...body.contact },
    actor: body.actor,
    message: body.message,
    messages: body.messages,
    changes: body.changes,
    session: body.session,
    extensions: body.extensions,
  };
}
