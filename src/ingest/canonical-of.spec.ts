import { CanonicalEventBody } from '../canonical/canonical-event';
import { IngestJobData } from '../queues/queue-names';
import { ChatwootNormalizer } from '../sources/chatwoot/chatwoot.normalizer';
import { SourceNormalizer } from '../sources/source-normalizer';
import { SourceRegistry } from '../sources/source-registry';
import { canonicalOf } from './canonical-of';

/** A plug-in whose event holds a value JSON cannot write (a BigInt), as a broken one might. */
const unserialisable: SourceNormalizer = {
  kind: 'unserialisable',
  verify: () => ({ ok: true }),
  deliveryId: () => null,
  acceptedResponse: () => ({}),
  normalize: () => ({
    status: 'ok',
    event: {
      type: 'source.unknown',
      occurredAt: null,
      sourceEvent: 'x',
      conversation: null,
      contact: null,
      actor: null,
      message: null,
      messages: [],
      changes: null,
      session: null,
      extensions: { unserialisable: { count: BigInt(1) } },
    } as CanonicalEventBody,
  }),
};

const registry = new SourceRegistry([new ChatwootNormalizer(), unserialisable]);

function job(sourceKind: string, rawBody: string): IngestJobData {
  return {
    eventId: 'evt_1',
    sourceId: 'src_1',
    sourceKind,
    sourceDeliveryId: null,
    receivedAt: '2026-04-16T14:05:11.000Z',
    rawBody,
  };
}

describe('canonicalOf', () => {
  it('makes the canonical event of a body nested 6,000 deep, cut at the bound', () => {
    const deep = `${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}`;
    const outcome = canonicalOf(
      job('chatwoot', `{"event":"message_created","id":1,"content_attributes":${deep}}`),
      registry,
    );
    if (outcome.status !== 'ok') throw new Error(outcome.reason);
    expect(JSON.parse(outcome.json)).toEqual(outcome.event);
    expect(outcome.event.extensions.router.depthCut).toMatchObject({ count: 1 });
  });

  it('answers unprocessable when the event cannot be serialised, instead of throwing', () => {
    expect(canonicalOf(job('unserialisable', '{}'), registry)).toEqual({
      status: 'unprocessable',
      reason: expect.stringMatching(/^the canonical event could not be made: .*BigInt/),
    });
  });

  it.each([
    ['[1,2]', 'body is not a JSON object'],
    ['not json', 'body is not a JSON object'],
    ['{"id":1}', 'payload has no string "event" field'],
  ])('answers unprocessable for %s', (rawBody, reason) => {
    expect(canonicalOf(job('chatwoot', rawBody), registry)).toEqual({
      status: 'unprocessable',
      reason,
    });
  });
});
