import type {
  Actor,
  Agent,
  Attachment,
  CanonicalEvent,
  Channel,
  ConversationStatus,
  Message,
  MessageDirection,
  Team,
} from '../canonical/canonical-event';

/**
 * The rules of a conversation's state, with no database: given the state and one canonical
 * event, the next state. Every field takes the value of the newest event that sets it, by the
 * source's own time (`occurredAt`) and then by event id, so any order and any repetition of the
 * same events ends in the same state (docs/conversations.md has the table).
 */

/** When a value was set: the event's `occurredAt` (ISO, UTC) and its id, which breaks ties. */
export type Stamp = [occurredAt: string, eventId: string];

export type StampedField =
  | 'status'
  | 'endedAt'
  | 'channel'
  | 'team'
  | 'assignee'
  | 'labels'
  | 'rating'
  | 'attributes'
  | 'startedAt'
  | 'contact';

export interface ConversationContactRef {
  identityId: string;
  externalId: string | null;
}

export interface MessagePreview {
  externalId: string;
  direction: MessageDirection | null;
  text: string | null;
  createdAt: string | null;
  senderName: string | null;
  deleted: boolean;
}

export interface ConversationState {
  status: ConversationStatus;
  endedAt: string | null;
  channel: Channel | null;
  team: Team | null;
  assignee: Agent | null;
  /** Everyone who took part, by agentKey, each as the newest event described them. */
  agents: Record<string, { agent: Agent; stamp: Stamp }>;
  labels: string[];
  rating: 'positive' | 'negative' | null;
  attributes: Record<string, unknown>;
  startedAt: string | null;
  contact: ConversationContactRef | null;
  firstActivityAt: string | null;
  lastActivityAt: string | null;
  counts: Record<MessageDirection, number>;
  stamps: Partial<Record<StampedField, Stamp>>;
}

export type MessageField =
  'direction' | 'kind' | 'text' | 'attachments' | 'sender' | 'createdAt' | 'private' | 'status';

export interface MessageState {
  externalId: string;
  direction: MessageDirection | null;
  kind: Message['kind'] | null;
  text: string | null;
  attachments: Attachment[];
  sender: Actor | null;
  createdAt: string | null;
  private: boolean;
  /** Once deleted, always deleted: no event undeletes a message. */
  deleted: boolean;
  status: Message['status'];
  /** The earliest `occurredAt` of the events that carried it: its time when it has no createdAt. */
  firstSeenAt: string;
  stamps: Partial<Record<MessageField, Stamp>>;
}

/** A message no event has set a field of yet, first seen at `firstSeenAt`. */
export function emptyMessageState(externalId: string, firstSeenAt: string): MessageState {
  return {
    externalId,
    direction: null,
    kind: null,
    text: null,
    attachments: [],
    sender: null,
    createdAt: null,
    private: false,
    deleted: false,
    status: null,
    firstSeenAt,
    stamps: {},
  };
}

export function emptyConversationState(): ConversationState {
  return {
    status: 'unknown',
    endedAt: null,
    channel: null,
    team: null,
    assignee: null,
    agents: {},
    labels: [],
    rating: null,
    attributes: {},
    startedAt: null,
    contact: null,
    firstActivityAt: null,
    lastActivityAt: null,
    counts: { inbound: 0, outbound: 0, internal: 0 },
    stamps: {},
  };
}

/** Negative when `a` is older than `b`; equal stamps are the same event. */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** Typing carries no state: it neither sets fields nor counts as activity. */
const STATELESS_TYPES = new Set(['conversation.typing_started', 'conversation.typing_stopped']);

/** Change keys (Chatwoot's `changed_attributes`, normalized or not) that say a field was cleared. */
const CLEARING_CHANGES: Partial<Record<StampedField, string[]>> = {
  assignee: ['assignee', 'assignee_id', 'assigneeId'],
  team: ['team', 'team_id', 'teamId'],
  labels: ['labels', 'label_list', 'cached_label_list'],
  attributes: ['attributes', 'custom_attributes', 'customAttributes'],
  rating: ['rating'],
};

/**
 * The messages an event carries (its message and the transcript) whose native id can be kept
 * as a key: not empty, no NUL, at most 512 characters.
 */
export function messagesOf(event: CanonicalEvent): Message[] {
  const carried = event.message ? [event.message, ...event.messages] : event.messages;
  return carried.filter(
    (message) =>
      message.externalId !== '' &&
      message.externalId.length <= 512 &&
      !message.externalId.includes(String.fromCharCode(0)),
  );
}

/** An agent's identity among a conversation's agents. */
export function agentKey(agent: Agent): string {
  return agent.externalId ?? `name:${agent.name ?? agent.email ?? ''}`;
}

export interface AppliedEvent {
  state: ConversationState;
  /** The messages this event touched, as they are after it (to write back). */
  messages: MessageState[];
}

/**
 * The conversation after `event`. `messages` holds the stored state of (at least) the messages
 * the event carries; `contact` is the identity the router resolved for the event's contact.
 */
export function applyConversationEvent(
  current: ConversationState,
  messages: ReadonlyMap<string, MessageState>,
  event: CanonicalEvent,
  contact: ConversationContactRef | null,
): AppliedEvent {
  if (STATELESS_TYPES.has(event.type) || !event.conversation) {
    return { state: current, messages: [] };
  }
  const stamp: Stamp = [event.occurredAt, event.id];
  const state: ConversationState = {
    ...current,
    stamps: { ...current.stamps },
    counts: { ...current.counts },
  };
  const conversation = event.conversation;
  const changed = (field: StampedField) =>
    CLEARING_CHANGES[field]?.some((key) => event.changes?.[key] !== undefined) ?? false;
  const set = <F extends StampedField>(field: F, apply: () => void) => {
    const previous = state.stamps[field];
    if (previous && compareStamps(stamp, previous) <= 0) return;
    apply();
    state.stamps[field] = stamp;
  };

  const ends = event.type === 'conversation.ended';
  const status = ends ? 'resolved' : conversation.status;
  if (status !== 'unknown') set('status', () => (state.status = status));
  const endedAt = conversation.endedAt ?? (ends ? event.occurredAt : null);
  if (endedAt) set('endedAt', () => (state.endedAt = endedAt));
  if (conversation.channel) set('channel', () => (state.channel = conversation.channel));
  if (conversation.team || changed('team')) set('team', () => (state.team = conversation.team));
  if (conversation.assignee || changed('assignee')) {
    set('assignee', () => (state.assignee = conversation.assignee));
  }
  if (conversation.labels.length > 0 || changed('labels')) {
    set('labels', () => (state.labels = [...conversation.labels].sort()));
  }
  if (conversation.rating || changed('rating')) {
    set('rating', () => (state.rating = conversation.rating));
  }
  if (Object.keys(conversation.attributes).length > 0 || changed('attributes')) {
    set('attributes', () => (state.attributes = conversation.attributes));
  }
  if (conversation.startedAt) set('startedAt', () => (state.startedAt = conversation.startedAt));
  if (contact) set('contact', () => (state.contact = contact));

  const agents = conversation.assignee
    ? [conversation.assignee, ...conversation.agents]
    : conversation.agents;
  if (agents.length > 0) {
    state.agents = { ...current.agents };
    for (const agent of agents) {
      const key = agentKey(agent);
      const known = state.agents[key];
      if (!known || compareStamps(stamp, known.stamp) > 0) state.agents[key] = { agent, stamp };
    }
  }

  if (!state.firstActivityAt || event.occurredAt < state.firstActivityAt) {
    state.firstActivityAt = event.occurredAt;
  }
  if (!state.lastActivityAt || event.occurredAt > state.lastActivityAt) {
    state.lastActivityAt = event.occurredAt;
  }

  // One event may carry a message twice (a transcript repeating it): the second sees the first.
  const touched = new Map<string, MessageState>();
  for (const message of messagesOf(event)) {
    const before = touched.get(message.externalId) ?? messages.get(message.externalId) ?? null;
    const after = applyMessage(before, message, stamp);
    if (after === before) continue;
    touched.set(after.externalId, after);
    if (before?.direction) state.counts[before.direction] -= 1;
    if (after.direction) state.counts[after.direction] += 1;
  }
  return { state, messages: [...touched.values()] };
}

/** A message after one more event carried it; the same object when nothing changed. */
export function applyMessage(
  current: MessageState | null,
  message: Message,
  stamp: Stamp,
): MessageState {
  const next: MessageState = current
    ? { ...current, stamps: { ...current.stamps } }
    : emptyMessageState(message.externalId, stamp[0]);
  let changed = current === null;
  const set = <F extends MessageField>(field: F, value: MessageState[F]) => {
    const previous = next.stamps[field];
    if (previous && compareStamps(stamp, previous) <= 0) return;
    next[field] = value;
    next.stamps[field] = stamp;
    changed = true;
  };
  set('direction', message.direction);
  set('kind', message.kind);
  set('private', message.private);
  if (message.text !== null) set('text', message.text);
  if (message.attachments.length > 0) set('attachments', message.attachments);
  if (message.sender) set('sender', message.sender);
  if (message.createdAt) set('createdAt', message.createdAt);
  if (message.status) set('status', message.status);
  if (message.deleted && !next.deleted) {
    next.deleted = true;
    changed = true;
  }
  if (stamp[0] < next.firstSeenAt) {
    next.firstSeenAt = stamp[0];
    changed = true;
  }
  return changed ? next : (current as MessageState);
}

/**
 * The conversation's last message: the newest by its time (createdAt, else when first seen),
 * then by native id. A function of the set of messages, so of no order (the repository reads
 * it with the same ORDER BY).
 */
export function lastMessageOf(messages: Iterable<MessageState>): MessageState | null {
  let last: MessageState | null = null;
  for (const message of messages) {
    if (!last || compareStamps(messageOrder(message), messageOrder(last)) > 0) last = message;
  }
  return last;
}

function messageOrder(message: MessageState): Stamp {
  return [message.createdAt ?? message.firstSeenAt, message.externalId];
}

export function previewOf(message: MessageState): MessagePreview {
  return {
    externalId: message.externalId,
    direction: message.direction,
    text: message.text === null ? null : message.text.slice(0, 200),
    createdAt: message.createdAt ?? message.firstSeenAt,
    senderName: message.sender?.name ?? null,
    deleted: message.deleted,
  };
}

/** The agents as a list, in a stable order. */
export function agentList(state: ConversationState): Agent[] {
  return Object.keys(state.agents)
    .sort()
    .map((key) => state.agents[key].agent);
}
