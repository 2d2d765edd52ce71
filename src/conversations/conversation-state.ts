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
import { keptIfSame } from './same-value';

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

/**
 * A copy to change. Spelled out, not spread: states read, remembered and made here come in
 * several object shapes, and a spread of them (and of their stamps, whose fields arrive in any
 * order) takes V8's slow path at every event.
 */
function copiedState(current: ConversationState): ConversationState {
  return {
    status: current.status,
    endedAt: current.endedAt,
    channel: current.channel,
    team: current.team,
    assignee: current.assignee,
    agents: current.agents,
    labels: current.labels,
    rating: current.rating,
    attributes: current.attributes,
    startedAt: current.startedAt,
    contact: current.contact,
    firstActivityAt: current.firstActivityAt,
    lastActivityAt: current.lastActivityAt,
    counts: current.counts,
    stamps: copiedStamps(current.stamps),
  };
}

/** Stamps copied field by field (a spread of them takes the slow path as the state's did). */
export function copiedStamps<F extends string>(
  stamps: Partial<Record<F, Stamp>>,
): Partial<Record<F, Stamp>> {
  const copy: Partial<Record<F, Stamp>> = {};
  for (const field in stamps) copy[field] = stamps[field];
  return copy;
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
  // Most events carry none: no array made for them.
  if (!event.message && event.messages.length === 0) return NO_MESSAGES;
  const carried = event.message ? [event.message, ...event.messages] : event.messages;
  return carried.filter(
    (message) =>
      message.externalId !== '' &&
      message.externalId.length <= 512 &&
      !message.externalId.includes(String.fromCharCode(0)),
  );
}

const NO_MESSAGES: Message[] = [];

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
  // `counts` is copied only when a message changes them.
  const state = copiedState(current);
  const conversation = event.conversation;
  const changes = event.changes;

  const ends = event.type === 'conversation.ended';
  const status = ends ? 'resolved' : conversation.status;
  if (status !== 'unknown' && takesStamp(state, 'status', stamp)) state.status = status;
  const endedAt = conversation.endedAt ?? (ends ? event.occurredAt : null);
  if (endedAt && takesStamp(state, 'endedAt', stamp)) state.endedAt = endedAt;
  if (conversation.channel && takesStamp(state, 'channel', stamp)) {
    state.channel = keptIfSame(state.channel, conversation.channel);
  }
  if ((conversation.team || saysCleared(changes, 'team')) && takesStamp(state, 'team', stamp)) {
    state.team = keptIfSame(state.team, conversation.team);
  }
  if (
    (conversation.assignee || saysCleared(changes, 'assignee')) &&
    takesStamp(state, 'assignee', stamp)
  ) {
    state.assignee = keptIfSame(state.assignee, conversation.assignee);
  }
  if (
    (conversation.labels.length > 0 || saysCleared(changes, 'labels')) &&
    takesStamp(state, 'labels', stamp)
  ) {
    state.labels = keptIfSame(state.labels, [...conversation.labels].sort());
  }
  if (
    (conversation.rating || saysCleared(changes, 'rating')) &&
    takesStamp(state, 'rating', stamp)
  ) {
    state.rating = conversation.rating;
  }
  if (
    (hasKeys(conversation.attributes) || saysCleared(changes, 'attributes')) &&
    takesStamp(state, 'attributes', stamp)
  ) {
    state.attributes = keptIfSame(state.attributes, conversation.attributes);
  }
  if (conversation.startedAt && takesStamp(state, 'startedAt', stamp)) {
    state.startedAt = conversation.startedAt;
  }
  if (contact && takesStamp(state, 'contact', stamp)) {
    state.contact = keptIfSame(state.contact, contact);
  }

  if (conversation.assignee || conversation.agents.length > 0) {
    state.agents = { ...current.agents };
    if (conversation.assignee) takeAgent(state.agents, conversation.assignee, stamp);
    for (const agent of conversation.agents) takeAgent(state.agents, agent, stamp);
  }

  if (!state.firstActivityAt || event.occurredAt < state.firstActivityAt) {
    state.firstActivityAt = event.occurredAt;
  }
  if (!state.lastActivityAt || event.occurredAt > state.lastActivityAt) {
    state.lastActivityAt = event.occurredAt;
  }

  const carried = messagesOf(event);
  if (carried.length === 0) return { state, messages: [] };
  // One event may carry a message twice (a transcript repeating it): the second sees the first.
  const touched = new Map<string, MessageState>();
  for (const message of carried) {
    const before = touched.get(message.externalId) ?? messages.get(message.externalId) ?? null;
    const after = applyMessage(before, message, stamp);
    if (after === before) continue;
    touched.set(after.externalId, after);
    if (before?.direction === after.direction) continue;
    if (state.counts === current.counts) state.counts = { ...current.counts };
    if (before?.direction) state.counts[before.direction] -= 1;
    if (after.direction) state.counts[after.direction] += 1;
  }
  return { state, messages: [...touched.values()] };
}

/**
 * Whether `stamp` is newer than the field's; if so the field takes it now (the caller sets the
 * value).
 */
function takesStamp(state: ConversationState, field: StampedField, stamp: Stamp): boolean {
  const previous = state.stamps[field];
  if (previous && compareStamps(stamp, previous) <= 0) return false;
  state.stamps[field] = stamp;
  return true;
}

/** Whether the event's `changes` name the field (so an empty value clears it). */
function saysCleared(changes: CanonicalEvent['changes'], field: StampedField): boolean {
  const keys = CLEARING_CHANGES[field];
  if (!changes || !keys) return false;
  for (const key of keys) if (changes[key] !== undefined) return true;
  return false;
}

function hasKeys(record: Record<string, unknown>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

function takeAgent(agents: ConversationState['agents'], agent: Agent, stamp: Stamp): void {
  const key = agentKey(agent);
  const known = agents[key];
  if (!known || compareStamps(stamp, known.stamp) > 0) {
    agents[key] = { agent: known ? keptIfSame(known.agent, agent) : agent, stamp };
  }
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
