import { Injectable } from '@nestjs/common';
import {
  Actor,
  ActorType,
  CanonicalEventBody,
  CanonicalEventType,
  ConversationStatus,
  FieldChange,
  Message,
} from '../../canonical/canonical-event';
import { JsonRecord, asBoolean, isRecord, toIsoTime } from '../../canonical/coerce';
import {
  InboundRequest,
  NormalizeContext,
  NormalizeResult,
  SourceNormalizer,
  VerificationResult,
} from '../source-normalizer';
import {
  accountOf,
  compact,
  contactExtension,
  conversationExtension,
  inboxEventExtension,
  messageExtension,
  namedRef,
  widgetExtension,
} from './chatwoot.extensions';
import {
  ChatwootContactEvent,
  ChatwootConversation,
  ChatwootInboxEvent,
  ChatwootMessage,
  ChatwootNamedRef,
  ChatwootParticipant,
  ChatwootTyping,
  ChatwootWebwidgetTriggered,
  ChatwootWidgetEventInfo,
  Loose,
} from './chatwoot.payload';
import {
  AnyChatwootMessage,
  conversationStatusOf,
  hasKey,
  initiatedAtOf,
  mergeContacts,
  messageStatusOf,
  messageTypeOf,
  participantRole,
  readActor,
  readChanges,
  readContact,
  readConversation,
  readMessage,
  readSession,
  readSnapshotMessages,
  snapshotMessageOf,
  systemActor,
  wire,
} from './chatwoot.readers';
import { CHATWOOT_ACTIONS } from './chatwoot.actions';
import { CHATWOOT_SETTINGS, ChatwootSettings } from './chatwoot.settings';
import { chatwootHeaderNames, verifyChatwootSignature } from './chatwoot.signature';
import { ConfiguredSource } from '../source-settings';

/** Which payload shape an event name announces. */
type EventShape =
  'conversation' | 'message' | 'typing' | 'widget' | 'contact' | 'inbox' | 'unknown';

interface KnownEvent {
  shape: EventShape;
  type: CanonicalEventType;
  /** The status the event's name states, which wins over the snapshot's. */
  status?: ConversationStatus;
}

const KNOWN_EVENTS = new Map<string, KnownEvent>([
  ['conversation_created', { shape: 'conversation', type: 'conversation.created' }],
  ['conversation_updated', { shape: 'conversation', type: 'conversation.updated' }],
  ['conversation_status_changed', { shape: 'conversation', type: 'conversation.status_changed' }],
  // Agent bots get these two instead of conversation_status_changed: the same types for them.
  [
    'conversation_opened',
    { shape: 'conversation', type: 'conversation.status_changed', status: 'open' },
  ],
  [
    'conversation_resolved',
    { shape: 'conversation', type: 'conversation.ended', status: 'resolved' },
  ],
  ['message_created', { shape: 'message', type: 'message.created' }],
  ['message_updated', { shape: 'message', type: 'message.updated' }],
  ['webwidget_triggered', { shape: 'widget', type: 'widget.opened' }],
  ['contact_created', { shape: 'contact', type: 'contact.created' }],
  ['contact_updated', { shape: 'contact', type: 'contact.updated' }],
  ['conversation_typing_on', { shape: 'typing', type: 'conversation.typing_started' }],
  ['conversation_typing_off', { shape: 'typing', type: 'conversation.typing_stopped' }],
  ['inbox_created', { shape: 'inbox', type: 'channel.created' }],
  ['inbox_updated', { shape: 'inbox', type: 'channel.updated' }],
]);

const UNKNOWN_EVENT: KnownEvent = { shape: 'unknown', type: 'source.unknown' };

/** The wire objects one payload holds, located by its shape. */
interface Scene {
  event: string;
  shape: EventShape;
  payload: JsonRecord;
  conversation: Loose<ChatwootConversation> | null;
  message: AnyChatwootMessage | null;
  /** Views of the one contact, best first. */
  contacts: unknown[];
  inbox: Loose<ChatwootNamedRef> | null;
  eventInfo: Loose<ChatwootWidgetEventInfo> | null;
}

/**
 * Chatwoot and its rebrands (Evolvy/NEXLOO, Konversio): HMAC-signed account, API-inbox and
 * agent-bot webhooks (docs/sources.md), normalized to canonical events.
 */
@Injectable()
export class ChatwootNormalizer implements SourceNormalizer<ChatwootSettings> {
  readonly kind = 'chatwoot';
  readonly settings = CHATWOOT_SETTINGS;
  readonly actions = CHATWOOT_ACTIONS;

  /**
   * Without a secret, the URL token has already authenticated the request: senders before
   * v4.11.2 (and automation/macro deliveries) sign nothing.
   */
  verify(
    request: InboundRequest,
    { settings }: ConfiguredSource<ChatwootSettings>,
    now: Date,
  ): VerificationResult {
    if (!settings.signingSecret) return { ok: true };
    const names = chatwootHeaderNames(settings.signatureHeaderPrefix);
    return verifyChatwootSignature({
      rawBody: request.rawBody,
      timestamp: headerValue(request, names.timestamp),
      signature: headerValue(request, names.signature),
      secret: settings.signingSecret,
      now,
    });
  }

  deliveryId(
    request: InboundRequest,
    { settings }: ConfiguredSource<ChatwootSettings>,
  ): string | null {
    return (
      headerValue(request, chatwootHeaderNames(settings.signatureHeaderPrefix).delivery) ?? null
    );
  }

  acceptedResponse(eventId: string): unknown {
    return { status: 'accepted', eventId };
  }

  normalize(payload: JsonRecord, context: NormalizeContext): NormalizeResult {
    if (!isRecord(payload)) {
      return { status: 'unprocessable', reason: 'payload is not a JSON object' };
    }
    const event = payload.event;
    if (typeof event !== 'string' || event.trim() === '') {
      return { status: 'unprocessable', reason: 'payload has no string "event" field' };
    }
    return { status: 'ok', event: buildBody(sceneOf(event, payload), context) };
  }
}

function headerValue(request: InboundRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first?.trim() || undefined;
}

// ---------------------------------------------------------------------------------------------
// Locating the wire objects

function sceneOf(event: string, payload: JsonRecord): Scene {
  const { shape } = KNOWN_EVENTS.get(event) ?? UNKNOWN_EVENT;
  const base: Scene = {
    event,
    shape,
    payload,
    conversation: null,
    message: null,
    contacts: [],
    inbox: null,
    eventInfo: null,
  };
  switch (shape) {
    case 'conversation':
      return withConversation(base, payload);
    case 'message':
      return messageScene(base, payload as Loose<ChatwootMessage>);
    case 'typing':
      return typingScene(base, payload as Loose<ChatwootTyping>);
    case 'widget':
      return widgetScene(base, payload as Loose<ChatwootWebwidgetTriggered>);
    case 'contact':
      return { ...base, contacts: [payload] };
    case 'inbox':
      return base;
    case 'unknown':
      return unknownScene(base, payload);
  }
}

function withConversation(scene: Scene, value: unknown): Scene {
  const conversation = wire<ChatwootConversation>(value);
  const meta = wire<{ sender: unknown }>(conversation?.meta);
  return { ...scene, conversation, contacts: [...scene.contacts, meta?.sender] };
}

function isContactParticipant(value: unknown, senderType: unknown, fallback: ActorType): boolean {
  const participant = wire<ChatwootParticipant>(value);
  return participant !== null && participantRole(participant, senderType, fallback) === 'contact';
}

function messageScene(scene: Scene, payload: Loose<ChatwootMessage>): Scene {
  const incoming = messageTypeOf(payload.message_type) === 'incoming';
  const senderIsContact = isContactParticipant(
    payload.sender,
    payload.sender_type,
    incoming ? 'contact' : 'agent',
  );
  const withContacts: Scene = {
    ...scene,
    message: payload,
    inbox: wire<ChatwootNamedRef>(payload.inbox),
    contacts: [senderIsContact ? payload.sender : null, payload.contact],
  };
  return withConversation(withContacts, payload.conversation);
}

function typingScene(scene: Scene, payload: Loose<ChatwootTyping>): Scene {
  const contacts = isContactParticipant(payload.user, null, 'agent') ? [payload.user] : [];
  return withConversation({ ...scene, contacts }, payload.conversation);
}

function widgetScene(scene: Scene, payload: Loose<ChatwootWebwidgetTriggered>): Scene {
  const withContacts: Scene = {
    ...scene,
    contacts: [payload.contact],
    inbox: wire<ChatwootNamedRef>(payload.inbox),
    eventInfo: wire<ChatwootWidgetEventInfo>(payload.event_info),
  };
  return withConversation(withContacts, payload.current_conversation);
}

/** Keys only a conversation snapshot has at its top level. */
const CONVERSATION_MARKERS = ['meta', 'messages', 'channel', 'contact_inbox', 'display_id'];

/** `automation_event.*`, `macro.executed`, bot-only and future events: use what the shape offers. */
function unknownScene(scene: Scene, payload: JsonRecord): Scene {
  const nested = wire(payload.conversation) ?? wire(payload.current_conversation);
  const topLevel = CONVERSATION_MARKERS.some((key) => hasKey(payload, key)) ? payload : null;
  const looksLikeContact =
    !topLevel && ['phone_number', 'identifier'].some((key) => hasKey(payload, key));
  const contacts = [payload.contact, looksLikeContact ? payload : null];
  const inbox = wire<ChatwootNamedRef>(payload.inbox);
  return withConversation({ ...scene, contacts, inbox }, nested ?? topLevel);
}

// ---------------------------------------------------------------------------------------------
// Building the body

function buildBody(scene: Scene, context: NormalizeContext): CanonicalEventBody {
  const changes = readChanges(scene.payload.changed_attributes);
  const type = canonicalTypeOf(scene);
  const occurredAt = occurredAtOf(scene, changes);
  const contactRecord = scene.contacts.find((candidate) => readContact(candidate) !== null);
  const message = scene.message ? readTopLevelMessage(scene) : null;
  return {
    type,
    occurredAt,
    sourceEvent: scene.event,
    conversation: readConversation(scene.conversation, {
      kind: context.kind,
      sourceId: context.sourceId,
      inbox: scene.inbox,
      endedAt: endsConversation(type, changes) ? occurredAt : null,
      fallbackId: scene.message?.conversation_id,
      status: KNOWN_EVENTS.get(scene.event)?.status,
    }),
    contact: mergeContacts(scene.contacts.map(readContact)),
    actor: actorOf(scene, message),
    message,
    messages: scene.shape === 'message' ? [] : readSnapshotMessages(scene.conversation),
    changes,
    session: readSession({
      conversationAttributes: scene.conversation?.additional_attributes,
      eventInfo: scene.eventInfo,
      contactAttributes: wire<{ additional_attributes: unknown }>(contactRecord)
        ?.additional_attributes,
    }),
    extensions: { chatwoot: chatwootExtension(scene, contactRecord) },
  };
}

function canonicalTypeOf(scene: Scene): CanonicalEventType {
  const { type, status } = KNOWN_EVENTS.get(scene.event) ?? UNKNOWN_EVENT;
  const resolved = (status ?? conversationStatusOf(scene.conversation?.status)) === 'resolved';
  return type === 'conversation.status_changed' && resolved ? 'conversation.ended' : type;
}

function endsConversation(type: CanonicalEventType, changes: Record<string, FieldChange> | null) {
  const statusChange = changes?.['status'];
  return (
    type === 'conversation.ended' ||
    (type === 'conversation.updated' && conversationStatusOf(statusChange?.current) === 'resolved')
  );
}

function readTopLevelMessage(scene: Scene): Message | null {
  const snapshot = snapshotMessageOf(scene.conversation, scene.message?.id);
  return readMessage(scene.message, {
    fallbackStatus: messageStatusOf(snapshot?.status),
    fallbackSender: wire<ChatwootParticipant>(scene.message?.contact),
  });
}

function actorOf(scene: Scene, message: Message | null): Actor {
  switch (scene.shape) {
    case 'message':
      return message?.sender ?? systemActor();
    case 'typing':
      return typingActor(scene.payload as Loose<ChatwootTyping>);
    case 'widget': {
      const visitor = wire<ChatwootParticipant>(
        (scene.payload as Loose<ChatwootWebwidgetTriggered>).contact,
      );
      return visitor ? readActor(visitor, 'contact') : systemActor();
    }
    case 'contact':
    case 'conversation':
    case 'inbox':
    case 'unknown':
      return systemActor();
  }
}

function typingActor(payload: Loose<ChatwootTyping>): Actor {
  const user = wire<ChatwootParticipant>(payload.user);
  return user ? readActor(user, participantRole(user, null, 'agent')) : systemActor();
}

/** The time the event happened, as best the payload tells; null lets the router use receivedAt. */
function occurredAtOf(scene: Scene, changes: Record<string, FieldChange> | null): string | null {
  const payload = scene.payload;
  switch (scene.shape) {
    case 'message':
      return messageEventTime(scene);
    case 'conversation':
      return changedAt(changes) ?? conversationTime(scene.conversation);
    case 'typing':
      // The snapshot's times are the conversation's last change, not the keystroke.
      return null;
    case 'widget':
      return initiatedAtOf(scene.eventInfo?.initiated_at);
    case 'contact': {
      const contact = payload as Loose<ChatwootContactEvent>;
      return changedAt(changes) ?? toIsoTime(contact.updated_at) ?? toIsoTime(contact.created_at);
    }
    case 'inbox': {
      const inbox = payload as Loose<ChatwootInboxEvent>;
      return toIsoTime(inbox.updated_at) ?? toIsoTime(inbox.created_at);
    }
    case 'unknown':
      return (
        conversationTime(scene.conversation) ??
        toIsoTime(payload.updated_at) ??
        toIsoTime(payload.created_at)
      );
  }
}

/** `changed_attributes.updated_at` is the server's own ISO time of the change, to the millisecond. */
function changedAt(changes: Record<string, FieldChange> | null): string | null {
  return toIsoTime(changes?.['updated_at']?.current);
}

/** An update's time is the snapshot entry's `updated_at` (status flips, deletion), when present. */
function messageEventTime(scene: Scene): string | null {
  const snapshot =
    scene.event === 'message_updated'
      ? snapshotMessageOf(scene.conversation, scene.message?.id)
      : null;
  return toIsoTime(snapshot?.updated_at) ?? toIsoTime(scene.message?.created_at);
}

function conversationTime(conversation: Loose<ChatwootConversation> | null): string | null {
  return (
    toIsoTime(conversation?.updated_at) ??
    toIsoTime(conversation?.timestamp) ??
    toIsoTime(conversation?.created_at)
  );
}

function chatwootExtension(scene: Scene, contactRecord: unknown): JsonRecord {
  const payload = scene.payload;
  return compact({
    account: accountOf(payload, scene.conversation),
    inbox: scene.shape === 'inbox' ? inboxEventExtension(payload) : namedRef(scene.inbox),
    conversation: conversationExtension(scene.conversation),
    message: messageExtension(scene.message),
    contact: contactExtension(contactRecord),
    typing:
      scene.shape === 'typing'
        ? compact({ isPrivate: asBoolean((payload as Loose<ChatwootTyping>).is_private) })
        : null,
    widget:
      scene.shape === 'widget'
        ? widgetExtension(payload as Loose<ChatwootWebwidgetTriggered>)
        : null,
  });
}
