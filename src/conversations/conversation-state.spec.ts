import fc from 'fast-check';
import { buildCanonicalEvent } from '../canonical/build-event';
import type {
  Agent,
  CanonicalEvent,
  CanonicalEventBody,
  CanonicalEventType,
  ConversationStatus,
  Message,
} from '../canonical/canonical-event';
import {
  agentList,
  applyConversationEvent,
  ConversationContactRef,
  ConversationState,
  emptyConversationState,
  lastMessageOf,
  MessageState,
} from './conversation-state';

/** Applies events in order, keeping every message, as the repository does. */
function replay(events: { event: CanonicalEvent; contact: ConversationContactRef | null }[]) {
  let state = emptyConversationState();
  const messages = new Map<string, MessageState>();
  for (const { event, contact } of events) {
    const applied = applyConversationEvent(state, messages, event, contact);
    state = applied.state;
    for (const message of applied.messages) messages.set(message.externalId, message);
  }
  return { state, messages };
}

/** What the state means, with the stamps' bookkeeping left out. */
function meaning(result: { state: ConversationState; messages: Map<string, MessageState> }) {
  const { stamps: _stamps, agents: _agents, ...fields } = result.state;
  const messages = [...result.messages.values()]
    .map(({ stamps: _messageStamps, ...message }) => message)
    .sort((a, b) => (a.externalId < b.externalId ? -1 : 1));
  return {
    ...fields,
    agents: agentList(result.state),
    messages,
    last: lastMessageOf(result.messages.values())?.externalId ?? null,
  };
}

const KEY = 'chatwoot:src_test:42';

function event(
  id: string,
  type: CanonicalEventType,
  occurredAt: string,
  body: Partial<CanonicalEventBody> & {
    status?: ConversationStatus;
    assignee?: Agent | null;
    labels?: string[];
  } = {},
): CanonicalEvent {
  const { status = 'open', assignee = null, labels = [], ...rest } = body;
  return buildCanonicalEvent(
    {
      type,
      occurredAt,
      sourceEvent: type,
      conversation: {
        key: KEY,
        externalId: '42',
        status,
        channel: { type: 'whatsapp', externalId: '7', name: 'WhatsApp' },
        team: null,
        assignee,
        agents: [],
        labels,
        rating: null,
        startedAt: '2026-04-16T14:00:00.000Z',
        endedAt: null,
        attributes: {},
      },
      contact: null,
      actor: null,
      message: null,
      messages: [],
      changes: null,
      session: null,
      extensions: {},
      ...rest,
    },
    { id, receivedAt: occurredAt, source: { kind: 'chatwoot', id: 'src_test', deliveryId: null } },
  );
}

function message(externalId: string, fields: Partial<Message> = {}): Message {
  return {
    externalId,
    direction: 'inbound',
    kind: 'text',
    text: `text ${externalId}`,
    attachments: [],
    sender: { type: 'contact', externalId: 'c1', name: 'Maria', email: null },
    createdAt: null,
    private: false,
    deleted: false,
    status: null,
    ...fields,
  };
}

const agent = (id: string, name: string): Agent => ({
  externalId: id,
  name,
  email: null,
  phone: null,
  kind: 'human',
});

describe('conversation state', () => {
  it('keeps a resolve against a stale update that arrives after it', () => {
    const resolved = event('evt_2', 'conversation.ended', '2026-04-16T14:10:00.000Z', {
      status: 'resolved',
    });
    const stale = event('evt_1', 'conversation.updated', '2026-04-16T14:05:00.000Z', {
      status: 'open',
      labels: ['vip'],
    });
    const { state } = replay([
      { event: resolved, contact: null },
      { event: stale, contact: null },
    ]);
    expect(state.status).toBe('resolved');
    expect(state.endedAt).toBe('2026-04-16T14:10:00.000Z');
    expect(state.labels).toEqual(['vip']);
  });

  it('keeps an edit that arrives before the message it edits, and counts the message once', () => {
    const created = event('evt_1', 'message.created', '2026-04-16T14:01:00.000Z', {
      message: message('m1', { text: 'helo', createdAt: '2026-04-16T14:01:00.000Z' }),
    });
    const updated = event('evt_2', 'message.updated', '2026-04-16T14:02:00.000Z', {
      message: message('m1', { text: 'hello', createdAt: '2026-04-16T14:01:00.000Z' }),
    });
    const result = replay([
      { event: updated, contact: null },
      { event: created, contact: null },
      { event: created, contact: null },
    ]);
    expect(result.messages.get('m1')?.text).toBe('hello');
    expect(result.state.counts).toEqual({ inbound: 1, outbound: 0, internal: 0 });
  });

  it('clears the assignee only when the event says it changed', () => {
    const assigned = event('evt_1', 'conversation.updated', '2026-04-16T14:01:00.000Z', {
      assignee: agent('a1', 'Ana'),
    });
    const silent = event('evt_2', 'conversation.updated', '2026-04-16T14:02:00.000Z');
    const cleared = event('evt_3', 'conversation.updated', '2026-04-16T14:03:00.000Z', {
      changes: { assignee_id: { previous: 'a1', current: null } },
    });
    expect(
      replay([assigned, silent].map((e) => ({ event: e, contact: null }))).state.assignee,
    ).toMatchObject({ externalId: 'a1' });
    expect(
      replay([assigned, silent, cleared].map((e) => ({ event: e, contact: null }))).state.assignee,
    ).toBeNull();
  });

  it('ignores typing: no field, no activity', () => {
    const typing = event('evt_1', 'conversation.typing_started', '2026-04-16T14:01:00.000Z');
    const result = replay([{ event: typing, contact: null }]);
    expect(result.state).toEqual(emptyConversationState());
  });

  describe('property: any permutation and duplication of the events gives the same state', () => {
    const times = Array.from({ length: 6 }, (_, index) => `2026-04-16T14:0${index}:00.000Z`);
    const types: CanonicalEventType[] = [
      'conversation.created',
      'conversation.updated',
      'conversation.status_changed',
      'conversation.ended',
      'conversation.accepted',
      'conversation.typing_started',
      'message.created',
      'message.updated',
    ];
    const statuses: ConversationStatus[] = ['open', 'pending', 'snoozed', 'resolved', 'unknown'];
    const messageIds = ['m1', 'm2', 'm3', 'm4'];
    const messageArb = fc.record({
      id: fc.constantFrom(...messageIds),
      text: fc.option(fc.constantFrom('hi', 'hello', 'bye'), { nil: null }),
      direction: fc.constantFrom('inbound' as const, 'outbound' as const, 'internal' as const),
      deleted: fc.boolean(),
      status: fc.option(fc.constantFrom('sent' as const, 'read' as const), { nil: null }),
      withTime: fc.boolean(),
    });
    const eventArb = fc.record({
      type: fc.constantFrom(...types),
      time: fc.constantFrom(...times),
      status: fc.constantFrom(...statuses),
      assignee: fc.option(fc.constantFrom('a1', 'a2'), { nil: null }),
      clearsAssignee: fc.boolean(),
      labels: fc.subarray(['vip', 'billing', 'bug']),
      rating: fc.option(fc.constantFrom('positive' as const, 'negative' as const), { nil: null }),
      message: fc.option(messageArb, { nil: null }),
      transcript: fc.array(messageArb, { maxLength: 3 }),
      contact: fc.option(fc.constantFrom('cti_a', 'cti_b'), { nil: null }),
    });

    type EventSpec = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

    function build(specs: EventSpec[]) {
      return specs.map((spec, index) => {
        const toMessage = (m: NonNullable<typeof spec.message>) =>
          message(m.id, {
            text: m.text,
            direction: m.direction,
            deleted: m.deleted,
            status: m.status,
            // A message's creation time is its own: the same on every event that carries it.
            createdAt: m.withTime ? `2026-04-16T13:5${messageIds.indexOf(m.id)}:00.000Z` : null,
          });
        const built = event(`evt_${String(index).padStart(3, '0')}`, spec.type, spec.time, {
          status: spec.status,
          assignee: spec.assignee ? agent(spec.assignee, `Agent ${spec.assignee}`) : null,
          labels: spec.labels,
          message: spec.message ? toMessage(spec.message) : null,
          messages: spec.transcript.map(toMessage),
          changes: spec.clearsAssignee ? { assignee_id: { previous: 'a1', current: null } } : null,
        });
        built.conversation!.rating = spec.rating;
        return {
          event: built,
          contact: spec.contact ? { identityId: spec.contact, externalId: spec.contact } : null,
        };
      });
    }

    it('holds over 2,000 generated conversations', () => {
      fc.assert(
        fc.property(
          fc.array(eventArb, { minLength: 1, maxLength: 12 }).chain((specs) =>
            fc.tuple(
              fc.constant(specs),
              fc.shuffledSubarray(
                specs.map((_, index) => index),
                { minLength: specs.length, maxLength: specs.length },
              ),
              fc.array(fc.nat({ max: specs.length - 1 }), { maxLength: 6 }),
            ),
          ),
          ([specs, order, repeats]) => {
            const events = build(specs);
            const inOrder = meaning(replay(events));
            const shuffled = [...order, ...repeats].map((index) => events[index]);
            expect(meaning(replay(shuffled))).toEqual(inOrder);
          },
        ),
        { numRuns: 2000, seed: 20261123 },
      );
    });
  });
});
