/**
 * The canonical conversation model (schema version 2). Every inbound webhook becomes one
 * CanonicalEvent; subscribers see only this shape. See docs/canonical-model.md.
 */

/** 2: `conversation.id` and `contact.id`, the router's ids (docs/canonical-model.md). */
export const CANONICAL_SCHEMA_VERSION = 2;

export const CANONICAL_EVENT_TYPES = [
  'conversation.created',
  'conversation.accepted',
  'conversation.updated',
  'conversation.status_changed',
  'conversation.ended',
  'conversation.typing_started',
  'conversation.typing_stopped',
  'message.created',
  'message.updated',
  'offline_message.created',
  'contact.created',
  'contact.updated',
  'contact.linked',
  'widget.opened',
  'call.updated',
  'channel.created',
  'channel.updated',
  'source.unknown',
] as const;

export type CanonicalEventType = (typeof CANONICAL_EVENT_TYPES)[number];

export type ConversationStatus =
  'open' | 'pending' | 'snoozed' | 'resolved' | 'offline' | 'unknown';

export type ChannelType =
  | 'web_widget'
  | 'telegram'
  | 'whatsapp'
  | 'facebook'
  | 'instagram'
  | 'email'
  | 'sms'
  | 'phone'
  | 'api'
  | 'viber'
  | 'vk'
  | 'unknown';

export interface Channel {
  type: ChannelType;
  externalId: string | null;
  name: string | null;
}

export interface Team {
  externalId: string | null;
  name: string | null;
}

export interface Agent {
  externalId: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  kind: 'human' | 'bot';
}

export interface Conversation {
  /** `<kind>:<sourceId>:<native id>`: globally unique and stable; the ordering key. */
  key: string;
  externalId: string;
  status: ConversationStatus;
  channel: Channel | null;
  team: Team | null;
  assignee: Agent | null;
  agents: Agent[];
  labels: string[];
  rating: 'positive' | 'negative' | null;
  startedAt: string | null;
  endedAt: string | null;
  attributes: Record<string, unknown>;
}

export interface Contact {
  externalId: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  phoneE164: string | null;
  description: string | null;
  avatarUrl: string | null;
  attributes: Record<string, unknown>;
  /** Browser-set (Jivo `user_token`): never trust it for identity. */
  userToken: string | null;
  chatsCount: number | null;
}

export type ActorType = 'contact' | 'agent' | 'bot' | 'system';

export interface Actor {
  type: ActorType;
  externalId: string | null;
  name: string | null;
  email: string | null;
}

export type AttachmentType = 'image' | 'audio' | 'video' | 'file' | 'location' | 'other';

export interface Attachment {
  type: AttachmentType;
  url: string | null;
  name: string | null;
  mimeType: string | null;
  size: number | null;
}

export type MessageDirection = 'inbound' | 'outbound' | 'internal';
export type MessageKind = 'text' | 'attachment' | 'template' | 'input' | 'system';
export type MessageStatus = 'sent' | 'delivered' | 'read' | 'failed';

export interface Message {
  externalId: string;
  direction: MessageDirection;
  kind: MessageKind;
  text: string | null;
  attachments: Attachment[];
  sender: Actor | null;
  createdAt: string | null;
  private: boolean;
  deleted: boolean;
  status: MessageStatus | null;
}

export interface GeoLocation {
  country: string | null;
  countryCode: string | null;
  region: string | null;
  regionCode: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
  organization: string | null;
}

export interface Utm {
  source: string | null;
  medium: string | null;
  campaign: string | null;
  content: string | null;
  term: string | null;
}

export interface Browser {
  name: string | null;
  version: string | null;
  platform: string | null;
  platformVersion: string | null;
  device: string | null;
}

export interface Session {
  ip: string | null;
  userAgent: string | null;
  language: string | null;
  referrer: string | null;
  page: { url: string | null; title: string | null } | null;
  geo: GeoLocation | null;
  utm: Utm | null;
  browser: Browser | null;
}

export interface FieldChange {
  previous: unknown;
  current: unknown;
}

export interface SourceRef {
  kind: string;
  id: string;
  /** The source's own event name, verbatim. */
  event: string;
  /** The source's delivery id when it sends one (X-Chatwoot-Delivery), else null. */
  deliveryId: string | null;
}

/** What a normalizer decides about one payload; the router adds the envelope. */
export interface CanonicalEventBody {
  type: CanonicalEventType;
  /** From the payload when it has a time, else null (the router then uses receivedAt). */
  occurredAt: string | null;
  /** The source's own event name, verbatim (e.g. `chat_accepted`). */
  sourceEvent: string;
  conversation: Conversation | null;
  contact: Contact | null;
  actor: Actor | null;
  message: Message | null;
  messages: Message[];
  changes: Record<string, FieldChange> | null;
  session: Session | null;
  extensions: Record<string, Record<string, unknown>>;
}

/**
 * The router's id of the conversation (`conv_…`) or contact (`ct_…`), the same on every source
 * it appears on; set by the worker before routing, null where none is known (test sends).
 */
export interface RouterId {
  id: string | null;
}

export interface CanonicalEvent extends Omit<
  CanonicalEventBody,
  'sourceEvent' | 'occurredAt' | 'conversation' | 'contact'
> {
  id: string;
  schemaVersion: number;
  occurredAt: string;
  receivedAt: string;
  source: SourceRef;
  conversation: (RouterId & Conversation) | null;
  contact: (RouterId & Contact) | null;
}
