import { systemActor } from '../../canonical/actors';
import {
  Actor,
  ActorType,
  Agent,
  Attachment,
  AttachmentType,
  Browser,
  Channel,
  ChannelType,
  Contact,
  Conversation,
  ConversationStatus,
  FieldChange,
  GeoLocation,
  Message,
  MessageDirection,
  MessageKind,
  MessageStatus,
  Session,
  Team,
} from '../../canonical/canonical-event';
import {
  JsonRecord,
  asArray,
  asBoolean,
  asId,
  asNumber,
  asRecord,
  asString,
  asStringList,
  isRecord,
  recordOrEmpty,
  toE164,
  toIsoTime,
} from '../../canonical/coerce';
import {
  ChatwootAttachment,
  ChatwootBrowser,
  ChatwootContact,
  ChatwootContactAdditionalAttributes,
  ChatwootContactInbox,
  ChatwootConversation,
  ChatwootConversationAdditionalAttributes,
  ChatwootConversationMeta,
  ChatwootMessage,
  ChatwootNamedRef,
  ChatwootParticipant,
  ChatwootSnapshotMessage,
  ChatwootUser,
  ChatwootWidgetEventInfo,
  Loose,
} from './chatwoot.payload';

/** Readers from one Chatwoot wire object to one canonical value; none of them ever throws. */

export function wire<T>(value: unknown): Loose<T> | null {
  return asRecord(value) as Loose<T> | null;
}

export function hasKey(record: object | null, key: string): boolean {
  return record !== null && Object.prototype.hasOwnProperty.call(record, key);
}

export function isPresent<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}

function anyPresent(values: unknown[]): boolean {
  return values.some(isPresent);
}

/** `initiated_at` is `{timestamp: "<JS Date>"}` today and a bare string in 2020-era payloads. */
export function initiatedAtOf(value: unknown): string | null {
  return toIsoTime(wire<{ timestamp: string }>(value)?.timestamp ?? value);
}

/** The per-account display id: `display_id` in 2020-era payloads, `id` since. */
export function conversationIdOf(conversation: Loose<ChatwootConversation> | null): string | null {
  return asId(conversation?.display_id) ?? asId(conversation?.id);
}

// ---------------------------------------------------------------------------------------------
// People

const ROLE_BY_PARTICIPANT_TYPE = new Map<string, ActorType>([
  ['contact', 'contact'],
  ['user', 'agent'],
  ['agent_bot', 'bot'],
  ['agentbot', 'bot'],
  ['captain_assistant', 'bot'],
  ['captain::assistant', 'bot'],
]);

/** `type` of push/webhook data (`user`, `agent_bot`…) or a `sender_type` (`User`, `AgentBot`…). */
function roleOfType(type: unknown): ActorType | null {
  const name = asString(type);
  return name === null ? null : (ROLE_BY_PARTICIPANT_TYPE.get(name.toLowerCase()) ?? null);
}

/** Keys only a contact carries: contact webhook_data is the one participant shape with no `type`. */
const CONTACT_ONLY_KEYS = [
  'account',
  'phone_number',
  'identifier',
  'avatar',
  'blocked',
  'custom_attributes',
  'additional_attributes',
];

export function participantRole(
  participant: Loose<ChatwootParticipant> | null,
  senderType: unknown,
  fallback: ActorType,
): ActorType {
  const declared = roleOfType(participant?.type) ?? roleOfType(senderType);
  if (declared) return declared;
  if (CONTACT_ONLY_KEYS.some((key) => hasKey(participant, key))) return 'contact';
  return fallback;
}

export function readActor(
  participant: Loose<ChatwootParticipant> | null,
  type: ActorType,
  fallbackId: unknown = null,
): Actor {
  const user = participant as Loose<ChatwootUser> | null;
  return {
    type,
    externalId: asId(user?.id) ?? asId(fallbackId),
    name: asString(user?.name) ?? asString(user?.available_name),
    email: asString(user?.email),
  };
}

export function readContact(value: unknown): Contact | null {
  const contact = wire<ChatwootContact>(value);
  if (!contact) return null;
  const extra = wire<ChatwootContactAdditionalAttributes>(contact.additional_attributes);
  const phone = asString(contact.phone_number);
  const read: Contact = {
    externalId: asId(contact.id),
    name: asString(contact.name),
    email: asString(contact.email),
    phone,
    phoneE164: toE164(phone),
    description: asString(extra?.description),
    avatarUrl: asString(contact.thumbnail) ?? asString(contact.avatar),
    attributes: recordOrEmpty(contact.custom_attributes),
    userToken: asString(contact.identifier),
    chatsCount: null,
  };
  return anyPresent([read.externalId, read.name, read.email, read.phone]) ? read : null;
}

/**
 * One contact from several views of it (message sender, legacy `contact`, `meta.sender`): the
 * first wins, later ones with the same id fill its gaps. 2021-era senders carry only id and name.
 */
export function mergeContacts(candidates: Array<Contact | null>): Contact | null {
  const [primary, ...others] = candidates.filter(isPresent);
  if (!primary) return null;
  return others
    .filter(
      (other) =>
        !other.externalId || !primary.externalId || other.externalId === primary.externalId,
    )
    .reduce(fillContactGaps, primary);
}

function fillContactGaps(base: Contact, other: Contact): Contact {
  return {
    externalId: base.externalId ?? other.externalId,
    name: base.name ?? other.name,
    email: base.email ?? other.email,
    phone: base.phone ?? other.phone,
    phoneE164: base.phoneE164 ?? other.phoneE164,
    description: base.description ?? other.description,
    avatarUrl: base.avatarUrl ?? other.avatarUrl,
    attributes: Object.keys(base.attributes).length > 0 ? base.attributes : other.attributes,
    userToken: base.userToken ?? other.userToken,
    chatsCount: base.chatsCount ?? other.chatsCount,
  };
}

export function readAgent(value: unknown, assigneeType: unknown): Agent | null {
  const user = wire<ChatwootUser>(value);
  if (!user) return null;
  const isBot = roleOfType(assigneeType) === 'bot' || roleOfType(user.type) === 'bot';
  const read: Agent = {
    externalId: asId(user.id),
    name: asString(user.name) ?? asString(user.available_name),
    email: asString(user.email),
    phone: null,
    kind: isBot ? 'bot' : 'human',
  };
  return anyPresent([read.externalId, read.name, read.email]) ? read : null;
}

function readTeam(value: unknown): Team | null {
  const team = wire<ChatwootNamedRef>(value);
  const read: Team = { externalId: asId(team?.id), name: asString(team?.name) };
  return anyPresent([read.externalId, read.name]) ? read : null;
}

// ---------------------------------------------------------------------------------------------
// Conversation

const CHANNEL_TYPE_BY_CLASS = new Map<string, ChannelType>([
  ['Channel::WebWidget', 'web_widget'],
  ['Channel::Api', 'api'],
  ['Channel::Whatsapp', 'whatsapp'],
  ['Channel::Telegram', 'telegram'],
  ['Channel::FacebookPage', 'facebook'],
  ['Channel::Instagram', 'instagram'],
  ['Channel::Email', 'email'],
  ['Channel::Sms', 'sms'],
  ['Channel::TwilioSms', 'sms'],
  ['Channel::Voice', 'phone'],
]);

const CONVERSATION_STATUSES = new Set<ConversationStatus>([
  'open',
  'pending',
  'snoozed',
  'resolved',
]);

export function conversationStatusOf(value: unknown): ConversationStatus {
  const status = asString(value)?.toLowerCase();
  return status && CONVERSATION_STATUSES.has(status as ConversationStatus)
    ? (status as ConversationStatus)
    : 'unknown';
}

/** Twilio carries SMS and WhatsApp; the payload only hints at the medium. */
function isTwilioWhatsapp(conversation: Loose<ChatwootConversation>): boolean {
  const extra = wire<ChatwootConversationAdditionalAttributes>(conversation.additional_attributes);
  const contactInbox = wire<ChatwootContactInbox>(conversation.contact_inbox);
  return (
    asString(extra?.medium) === 'whatsapp' ||
    (asString(contactInbox?.source_id)?.startsWith('whatsapp:') ?? false)
  );
}

function channelTypeOf(conversation: Loose<ChatwootConversation>): ChannelType {
  const channelClass = asString(conversation.channel);
  if (channelClass === null) return 'unknown';
  if (channelClass === 'Channel::TwilioSms' && isTwilioWhatsapp(conversation)) return 'whatsapp';
  return CHANNEL_TYPE_BY_CLASS.get(channelClass) ?? 'unknown';
}

function readChannel(
  conversation: Loose<ChatwootConversation>,
  inbox: Loose<ChatwootNamedRef> | null,
): Channel | null {
  const contactInbox = wire<ChatwootContactInbox>(conversation.contact_inbox);
  const read: Channel = {
    type: channelTypeOf(conversation),
    externalId: asId(conversation.inbox_id) ?? asId(inbox?.id) ?? asId(contactInbox?.inbox_id),
    name: asString(inbox?.name),
  };
  return anyPresent([asString(conversation.channel), read.externalId, read.name]) ? read : null;
}

export interface ConversationScope {
  kind: string;
  sourceId: string;
  /** `{id, name}` of message and widget payloads, which name the inbox the snapshot only numbers. */
  inbox: Loose<ChatwootNamedRef> | null;
  endedAt: string | null;
  /** A display id from outside the snapshot (e.g. `conversation_id`) when the snapshot is missing. */
  fallbackId?: unknown;
  /** The status the event's name states (agent-bot `conversation_opened`/`_resolved`). */
  status?: ConversationStatus;
}

export function readConversation(value: unknown, scope: ConversationScope): Conversation | null {
  const conversation = wire<ChatwootConversation>(value) ?? {};
  const id = conversationIdOf(conversation) ?? asId(scope.fallbackId);
  if (id === null) return null;
  const meta = wire<ChatwootConversationMeta>(conversation.meta);
  const assignee = readAgent(meta?.assignee, meta?.assignee_type);
  return {
    key: `${scope.kind}:${scope.sourceId}:${id}`,
    externalId: id,
    status: scope.status ?? conversationStatusOf(conversation.status),
    channel: readChannel(conversation, scope.inbox),
    team: readTeam(meta?.team),
    assignee,
    agents: assignee ? [assignee] : [],
    labels: asStringList(conversation.labels),
    rating: null,
    startedAt: toIsoTime(conversation.created_at),
    endedAt: scope.endedAt,
    attributes: recordOrEmpty(conversation.custom_attributes),
  };
}

// ---------------------------------------------------------------------------------------------
// Messages

/** Chatwoot's `message_type` enum, in integer order. */
const MESSAGE_TYPES = ['incoming', 'outgoing', 'activity', 'template'] as const;

export type ChatwootMessageType = (typeof MESSAGE_TYPES)[number];

/** A string at the top of message events, an integer (0–3) inside `conversation.messages[]`. */
export function messageTypeOf(value: unknown): ChatwootMessageType | null {
  if (typeof value === 'number') return MESSAGE_TYPES[value] ?? null;
  const text = asString(value)?.trim().toLowerCase();
  if (!text) return null;
  if (/^\d$/.test(text)) return MESSAGE_TYPES[Number(text)] ?? null;
  return MESSAGE_TYPES.find((type) => type === text) ?? null;
}

const MESSAGE_STATUSES = new Set<MessageStatus>(['sent', 'delivered', 'read', 'failed']);

export function messageStatusOf(value: unknown): MessageStatus | null {
  const status = asString(value)?.toLowerCase();
  return status && MESSAGE_STATUSES.has(status as MessageStatus) ? (status as MessageStatus) : null;
}

/** Either message shape: `message_type` and `created_at` differ in type, the keys are shared. */
export type AnyChatwootMessage = Loose<ChatwootMessage> & Loose<ChatwootSnapshotMessage>;

export interface MessageContext {
  /** When the wire value is absent (the top-level payload never carries one before PR #15908). */
  fallbackStatus?: MessageStatus | null;
  /** Who sent it when `sender` is absent: 2020-era payloads put the contact beside it. */
  fallbackSender?: Loose<ChatwootParticipant> | null;
}

export function readMessage(value: unknown, context: MessageContext = {}): Message | null {
  const message = wire<AnyChatwootMessage>(value);
  const id = asId(message?.id);
  if (!message || id === null) return null;
  const type = messageTypeOf(message.message_type);
  const sender = readMessageSender(message, type, context.fallbackSender ?? null);
  const text = asString(message.content);
  const attachments = asArray(message.attachments).map(readAttachment).filter(isPresent);
  const isPrivate = asBoolean(message.private) === true;
  return {
    externalId: id,
    direction: directionOf(type, isPrivate, sender),
    kind: kindOf(type, asString(message.content_type), text, attachments),
    text,
    attachments,
    sender,
    createdAt: toIsoTime(message.created_at),
    private: isPrivate,
    deleted: asBoolean(wire<{ deleted: boolean }>(message.content_attributes)?.deleted) === true,
    status: messageStatusOf(message.status) ?? context.fallbackStatus ?? null,
  };
}

function readMessageSender(
  message: AnyChatwootMessage,
  type: ChatwootMessageType | null,
  fallbackSender: Loose<ChatwootParticipant> | null,
): Actor {
  const sender = wire<ChatwootParticipant>(message.sender);
  const hasSender = sender !== null || anyPresent([message.sender_type, message.sender_id]);
  if (!hasSender && type !== 'incoming') return systemActor();
  const participant = sender ?? (type === 'incoming' ? fallbackSender : null);
  const fallbackRole: ActorType = type === 'incoming' ? 'contact' : 'agent';
  const role = participantRole(participant, message.sender_type, fallbackRole);
  return readActor(participant, role, message.sender_id);
}

function directionOf(
  type: ChatwootMessageType | null,
  isPrivate: boolean,
  sender: Actor,
): MessageDirection {
  if (isPrivate || type === 'activity') return 'internal';
  if (type === 'incoming') return 'inbound';
  if (type === 'outgoing' || type === 'template') return 'outbound';
  return sender.type === 'contact' ? 'inbound' : 'outbound';
}

function kindOf(
  type: ChatwootMessageType | null,
  contentType: string | null,
  text: string | null,
  attachments: Attachment[],
): MessageKind {
  if (type === 'activity') return 'system';
  if (type === 'template') return 'template';
  if (contentType !== null && (contentType.startsWith('input_') || contentType === 'form')) {
    return 'input';
  }
  if (attachments.length > 0 && text === null) return 'attachment';
  return 'text';
}

const ATTACHMENT_TYPES = new Set<AttachmentType>(['image', 'audio', 'video', 'file', 'location']);

function attachmentTypeOf(value: unknown): AttachmentType {
  const fileType = asString(value)?.toLowerCase();
  return fileType && ATTACHMENT_TYPES.has(fileType as AttachmentType)
    ? (fileType as AttachmentType)
    : 'other';
}

function readAttachment(value: unknown): Attachment | null {
  const attachment = wire<ChatwootAttachment>(value);
  if (!attachment) return null;
  const url = asString(attachment.data_url);
  return {
    type: attachmentTypeOf(attachment.file_type),
    url,
    name: fileNameOf(url),
    mimeType: asString(attachment.content_type),
    size: asNumber(attachment.file_size),
  };
}

/** The last path segment: ActiveStorage redirect URLs end with the original file name. */
export function fileNameOf(url: string | null): string | null {
  if (url === null) return null;
  const path = url.split(/[?#]/, 1)[0].replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  const segment = path.slice(path.lastIndexOf('/') + 1);
  if (segment === '') return null;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The `conversation.messages[]` entry for the same message: the only place its status shows. */
export function snapshotMessageOf(
  conversation: Loose<ChatwootConversation> | null,
  messageId: unknown,
): Loose<ChatwootSnapshotMessage> | null {
  const id = asId(messageId);
  if (id === null) return null;
  const match = asArray(conversation?.messages).find(
    (entry) => isRecord(entry) && asId(entry.id) === id,
  );
  return wire<ChatwootSnapshotMessage>(match);
}

export function readSnapshotMessages(conversation: Loose<ChatwootConversation> | null): Message[] {
  return asArray(conversation?.messages)
    .map((entry) => readMessage(entry))
    .filter(isPresent);
}

// ---------------------------------------------------------------------------------------------
// Session

/** The widget's keys of `conversation.additional_attributes`, read into the session. */
export const SESSION_CONVERSATION_KEYS = ['browser', 'referer', 'browser_language', 'initiated_at'];

/** The IP-lookup keys of `contact.additional_attributes`, read into the session. */
export const SESSION_CONTACT_KEYS = ['created_at_ip', 'city', 'country', 'country_code'];

export interface SessionSources {
  conversationAttributes: unknown;
  eventInfo: unknown;
  contactAttributes: unknown;
}

export function readSession(sources: SessionSources): Session | null {
  const conversation = wire<ChatwootConversationAdditionalAttributes>(
    sources.conversationAttributes,
  );
  const eventInfo = wire<ChatwootWidgetEventInfo>(sources.eventInfo);
  const contact = wire<ChatwootContactAdditionalAttributes>(sources.contactAttributes);
  const pageUrl = asString(eventInfo?.referer) ?? asString(conversation?.referer);
  const session: Session = {
    ip: asString(contact?.created_at_ip),
    userAgent: null,
    language:
      asString(eventInfo?.browser_language) ??
      asString(conversation?.browser_language) ??
      asString(eventInfo?.widget_language),
    // The widget's `referer` is the host page (`document.location.href`), not where the visit came from.
    referrer: null,
    page: pageUrl === null ? null : { url: pageUrl, title: null },
    geo: readGeo(contact),
    utm: null,
    browser: readBrowser(eventInfo?.browser) ?? readBrowser(conversation?.browser),
  };
  return anyPresent(Object.values(session)) ? session : null;
}

function readGeo(contact: Loose<ChatwootContactAdditionalAttributes> | null): GeoLocation | null {
  const geo: GeoLocation = {
    country: asString(contact?.country),
    countryCode: asString(contact?.country_code),
    region: null,
    regionCode: null,
    city: asString(contact?.city),
    latitude: null,
    longitude: null,
    organization: null,
  };
  return anyPresent(Object.values(geo)) ? geo : null;
}

function readBrowser(value: unknown): Browser | null {
  const browser = wire<ChatwootBrowser>(value);
  const read: Browser = {
    name: asString(browser?.browser_name),
    version: asString(browser?.browser_version),
    platform: asString(browser?.platform_name),
    platformVersion: asString(browser?.platform_version),
    device: asString(browser?.device_name),
  };
  return anyPresent(Object.values(read)) ? read : null;
}

// ---------------------------------------------------------------------------------------------
// Changes

/** Chatwoot columns whose canonical field has another name (`changes.assignee`, model doc). */
const CANONICAL_CHANGE_NAMES = new Map<string, string>([
  ['assignee_id', 'assignee'],
  ['team_id', 'team'],
  ['label_list', 'labels'],
  ['custom_attributes', 'attributes'],
  ['phone_number', 'phone'],
]);

const TIME_COLUMNS = new Set([
  'created_at',
  'updated_at',
  'first_reply_created_at',
  'snoozed_until',
  'waiting_since',
  'last_activity_at',
  'agent_last_seen_at',
  'contact_last_seen_at',
  'assignee_last_seen_at',
]);

const ID_COLUMNS = new Set([
  'assignee_id',
  'assignee_agent_bot_id',
  'team_id',
  'contact_id',
  'inbox_id',
  'company_id',
  'sla_policy_id',
  'campaign_id',
]);

/** Keys never copied out of a payload: inbox channel records carry webhook and HMAC secrets. */
export function isSecretKey(key: string): boolean {
  return /secret|token|password|api_key/i.test(key);
}

/**
 * `changed_attributes`: an array of single-key objects `[{status: {previous_value, current_value}}]`
 * as Chatwoot sends it; an object keyed by attribute is tolerated too.
 */
export function readChanges(value: unknown): Record<string, FieldChange> | null {
  const changes = changedEntries(value)
    .map(([key, change]) => readFieldChange(key, change))
    .filter(isPresent);
  return changes.length > 0 ? Object.fromEntries(changes) : null;
}

function changedEntries(value: unknown): Array<[string, unknown]> {
  if (Array.isArray(value))
    return value.flatMap((item) => (isRecord(item) ? Object.entries(item) : []));
  return isRecord(value) ? Object.entries(value) : [];
}

function readFieldChange(key: string, value: unknown): [string, FieldChange] | null {
  const pair = changePairOf(value);
  if (pair === null || isSecretKey(key)) return null;
  const readValue = changeValueReader(key);
  return [
    CANONICAL_CHANGE_NAMES.get(key) ?? key,
    { previous: readValue(pair.previous), current: readValue(pair.current) },
  ];
}

function changePairOf(value: unknown): FieldChange | null {
  if (Array.isArray(value) && value.length === 2) return { previous: value[0], current: value[1] };
  const change = asRecord(value);
  if (hasKey(change, 'previous_value') || hasKey(change, 'current_value')) {
    return { previous: change?.previous_value, current: change?.current_value };
  }
  if (hasKey(change, 'previous') || hasKey(change, 'current')) {
    return { previous: change?.previous, current: change?.current };
  }
  return null;
}

function changeValueReader(key: string): (value: unknown) => unknown {
  if (TIME_COLUMNS.has(key)) return toIsoTime;
  if (ID_COLUMNS.has(key)) return asId;
  return (value) => value ?? null;
}

/** Keeps the entries of a record whose key is not listed. */
export function omitKeys(value: unknown, keys: readonly string[]): JsonRecord {
  return Object.fromEntries(
    Object.entries(recordOrEmpty(value)).filter(([key]) => !keys.includes(key)),
  );
}

export { systemActor };
