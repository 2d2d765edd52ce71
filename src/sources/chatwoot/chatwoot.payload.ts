/**
 * Wire shapes of Chatwoot webhooks and of its rebrands (Evolvy/NEXLOO), as built by Chatwoot
 * ≈ v4.13 (its `webhook_data` and `push_event_data`). They document what to expect, not what arrived:
 * old 2022-era instances omit many keys, forks add others, ids may come as strings. Code reads
 * them through `Loose<T>`, so every value has to pass a tolerant reader of canonical/coerce.ts.
 */

/** A wire shape as it may arrive: any key absent, null or of another JSON type. */
export type Loose<T> = { [K in keyof T]?: unknown };

export type ChatwootId = number | string;

export const CHATWOOT_ACCOUNT_WEBHOOK_EVENTS = [
  'conversation_created',
  'conversation_updated',
  'conversation_status_changed',
  'message_created',
  'message_updated',
  'webwidget_triggered',
  'contact_created',
  'contact_updated',
  'conversation_typing_on',
  'conversation_typing_off',
  'inbox_created',
  'inbox_updated',
] as const;

/** Sent to agent bots only, instead of `conversation_status_changed`: the event names the status. */
export const CHATWOOT_AGENT_BOT_EVENTS = ['conversation_opened', 'conversation_resolved'] as const;

export type ChatwootEventName =
  (typeof CHATWOOT_ACCOUNT_WEBHOOK_EVENTS)[number] | (typeof CHATWOOT_AGENT_BOT_EVENTS)[number];

/** `{id, name}`: `Account#webhook_data`, and `Inbox#webhook_data` in message and widget payloads. */
export interface ChatwootNamedRef {
  id: ChatwootId;
  name: string;
}

/**
 * A contact, in either of its shapes: `webhook_data` (top of contact events, message `sender`,
 * widget `contact`, typing `user`: has `account` and `avatar`, no `type`) or `push_event_data`
 * (`meta.sender`, `messages[].sender`: has `type: "contact"`).
 */
export interface ChatwootContact {
  account: ChatwootNamedRef;
  additional_attributes: ChatwootContactAdditionalAttributes;
  avatar: string;
  custom_attributes: Record<string, unknown>;
  email: string | null;
  id: ChatwootId;
  identifier: string | null;
  name: string;
  phone_number: string | null;
  thumbnail: string;
  blocked: boolean;
  type: 'contact';
  /** Widget websocket credential (older `meta.sender` shapes): never copy it anywhere. */
  pubsub_token: string;
}

export interface ChatwootContactAdditionalAttributes {
  city: string;
  country: string;
  country_code: string;
  created_at_ip: string;
  description: string;
  company_name: string;
}

/** A user (agent), agent bot or Captain assistant, in webhook or push shape. */
export interface ChatwootUser {
  id: ChatwootId;
  name: string;
  email: string;
  available_name: string;
  avatar_url: string;
  thumbnail: string;
  availability_status: 'online' | 'busy' | 'offline' | null;
  description: string;
  type: 'user' | 'agent_bot' | 'captain_assistant';
}

/** A message sender or typing user: a contact, a user, a bot, or (template messages) null. */
export type ChatwootParticipant = ChatwootContact | ChatwootUser;

export type ChatwootSenderType = 'Contact' | 'User' | 'AgentBot' | 'Captain::Assistant';

export interface ChatwootContactInbox {
  id: ChatwootId;
  contact_id: ChatwootId;
  inbox_id: ChatwootId;
  /** Widget/API visitor UUID, WhatsApp phone digits, `whatsapp:+…` for Twilio WhatsApp, … */
  source_id: string;
  created_at: string;
  updated_at: string;
  hmac_verified: boolean;
  pubsub_token: string;
}

export interface ChatwootConversationMeta {
  sender: ChatwootContact;
  assignee: ChatwootUser | null;
  /** Since 2025-11; absent on older instances. */
  assignee_type: 'User' | 'AgentBot' | null;
  team: ChatwootNamedRef | null;
  hmac_verified: boolean | null;
}

export interface ChatwootBrowser {
  device_name: string;
  browser_name: string;
  platform_name: string;
  browser_version: string;
  platform_version: string;
}

/** `initiated_at` is `{timestamp: <JS Date.toString()>}`, or the bare string in 2020-era payloads. */
export type ChatwootInitiatedAt = { timestamp: string } | string;

export interface ChatwootConversationAdditionalAttributes {
  browser: ChatwootBrowser;
  /** The host page the widget ran on (`document.location.href`), not an HTTP referrer. */
  referer: string;
  initiated_at: ChatwootInitiatedAt;
  browser_language: string;
  source: string;
  mail_subject: string;
  medium: string;
}

/** `changed_attributes` entries: one single-key object per attribute. */
export interface ChatwootChangedValue {
  previous_value: unknown;
  current_value: unknown;
}

export type ChatwootChangedAttributes =
  Array<Record<string, ChatwootChangedValue>> | Record<string, ChatwootChangedValue> | null;

export interface ChatwootAttachment {
  id: ChatwootId;
  message_id: ChatwootId;
  file_type: string;
  account_id: ChatwootId;
  extension: string | null;
  content_type: string;
  data_url: string;
  thumb_url: string;
  file_size: number;
  width: number | null;
  height: number | null;
  coordinates_lat: number;
  coordinates_long: number;
  fallback_title: string;
  transcribed_text: string;
}

/** Fields common to both message shapes. */
interface ChatwootMessageBase {
  id: ChatwootId;
  content: string | null;
  content_type: string;
  content_attributes: Record<string, unknown>;
  additional_attributes: Record<string, unknown>;
  private: boolean;
  source_id: string | null;
  attachments: ChatwootAttachment[];
  sender: ChatwootParticipant | null;
  /** Present in `messages[]`; proposed for the top level by PR #15908. */
  status: 'sent' | 'delivered' | 'read' | 'failed';
  sender_type: ChatwootSenderType | null;
  changed_attributes: ChatwootChangedAttributes;
}

/** `conversation.messages[]`: `message_type` is an INTEGER here, `created_at` unix seconds. */
export interface ChatwootSnapshotMessage extends ChatwootMessageBase {
  account_id: ChatwootId;
  inbox_id: ChatwootId;
  conversation_id: ChatwootId;
  message_type: 0 | 1 | 2 | 3;
  created_at: number;
  updated_at: string;
  sender_id: ChatwootId | null;
  echo_id: string;
  external_source_ids: Record<string, unknown>;
}

/** Top level of `message_created` / `message_updated`: `message_type` is a STRING here. */
export interface ChatwootMessage extends ChatwootMessageBase {
  event: string;
  account: ChatwootNamedRef;
  inbox: ChatwootNamedRef;
  conversation: ChatwootConversation;
  message_type: 'incoming' | 'outgoing' | 'activity' | 'template';
  created_at: string;
  /** 2020-era payloads: the contact beside an agent `sender`. */
  contact: ChatwootContact;
  conversation_id: ChatwootId;
}

/** `conversation.webhook_data`: top of `conversation_*`, `automation_event.*` and `macro.executed`. */
export interface ChatwootConversation {
  event: string;
  additional_attributes: ChatwootConversationAdditionalAttributes;
  can_reply: boolean;
  channel: string;
  contact_inbox: ChatwootContactInbox;
  /** The per-account display id. */
  id: ChatwootId;
  /** 2020-era payloads carried only `display_id` and `additional_attributes`. */
  display_id: ChatwootId;
  inbox_id: ChatwootId;
  messages: ChatwootSnapshotMessage[];
  labels: string[];
  meta: ChatwootConversationMeta;
  status: 'open' | 'resolved' | 'pending' | 'snoozed';
  custom_attributes: Record<string, unknown>;
  snoozed_until: string | null;
  unread_count: number;
  first_reply_created_at: string | null;
  priority: 'low' | 'medium' | 'high' | 'urgent' | null;
  waiting_since: number;
  agent_last_seen_at: number;
  contact_last_seen_at: number;
  last_activity_at: number;
  timestamp: number;
  created_at: number;
  /** Float unix seconds with microseconds (since 2025-02). */
  updated_at: number;
  applied_sla: Record<string, unknown>;
  sla_events: unknown[];
  sla_policy_id: ChatwootId | null;
  /** Not sent by upstream; tolerated when a fork adds it. */
  account: ChatwootNamedRef;
  changed_attributes: ChatwootChangedAttributes;
}

export interface ChatwootWidgetEventInfo {
  initiated_at: ChatwootInitiatedAt;
  referer: string;
  widget_language: string | null;
  browser_language: string | null;
  browser: ChatwootBrowser;
}

export interface ChatwootWebwidgetTriggered {
  event: 'webwidget_triggered';
  /** The contact_inbox id, not the contact id. */
  id: ChatwootId;
  contact: ChatwootContact;
  inbox: ChatwootNamedRef;
  account: ChatwootNamedRef;
  current_conversation: ChatwootConversation | null;
  source_id: string;
  event_info: ChatwootWidgetEventInfo;
}

export interface ChatwootTyping {
  event: 'conversation_typing_on' | 'conversation_typing_off';
  user: ChatwootParticipant;
  conversation: ChatwootConversation;
  is_private: boolean;
}

/** `contact_created` / `contact_updated`: contact webhook_data plus the event fields. */
export interface ChatwootContactEvent extends ChatwootContact {
  event: 'contact_created' | 'contact_updated';
  changed_attributes: ChatwootChangedAttributes;
  /** Not sent by upstream (contacts carry no times); tolerated when a fork adds them. */
  created_at: string;
  updated_at: string;
}

/** `Inbox::EventDataPresenter#push_data`: no id, name or account; `channel` holds secrets. */
export interface ChatwootInboxEvent {
  event: 'inbox_created' | 'inbox_updated';
  channel: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  changed_attributes: ChatwootChangedAttributes;
}
