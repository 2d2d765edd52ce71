import {
  JsonRecord,
  asArray,
  asBoolean,
  asId,
  asNumber,
  asString,
  isRecord,
  recordOrEmpty,
  toIsoTime,
} from '../../canonical/coerce';
import {
  ChatwootAttachment,
  ChatwootContact,
  ChatwootContactInbox,
  ChatwootConversation,
  ChatwootConversationMeta,
  ChatwootNamedRef,
  ChatwootSnapshotMessage,
  ChatwootWebwidgetTriggered,
  ChatwootWidgetEventInfo,
  Loose,
} from './chatwoot.payload';
import {
  AnyChatwootMessage,
  SESSION_CONTACT_KEYS,
  SESSION_CONVERSATION_KEYS,
  initiatedAtOf,
  isSecretKey,
  omitKeys,
  wire,
} from './chatwoot.readers';

/**
 * `extensions.chatwoot`: what a Chatwoot payload says that the canonical model has no field for.
 * Keys the router builds are camelCase; Chatwoot's own free-form objects are kept verbatim.
 */

/** Drops null, undefined, empty objects and empty arrays, so absent data leaves no key. */
export function compact(record: Record<string, unknown>): JsonRecord {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => !isEmpty(value)));
}

function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.length === 0;
  return isRecord(value) && Object.keys(value).length === 0;
}

/** Deep-copies a wire value without secret-named keys; beyond `maxDepth`, nothing is copied. */
export function withoutSecrets(value: unknown, maxDepth = 12): unknown {
  if (maxDepth < 0) return undefined;
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, maxDepth - 1));
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !isSecretKey(key))
      .map(([key, item]) => [key, withoutSecrets(item, maxDepth - 1)]),
  );
}

export function namedRef(value: unknown): JsonRecord | null {
  const ref = wire<ChatwootNamedRef>(value);
  return ref ? compact({ id: asId(ref.id), name: asString(ref.name) }) : null;
}

/**
 * Message, contact and widget payloads carry `account`; conversation payloads only
 * `messages[].account_id`; inbox payloads only `channel.account_id`.
 */
export function accountOf(
  payload: JsonRecord,
  conversation: Loose<ChatwootConversation> | null,
): JsonRecord | null {
  const named = namedRef(payload.account) ?? namedRef(conversation?.account);
  if (named && Object.keys(named).length > 0) return named;
  const inboxChannel = wire<{ account_id: unknown }>(payload.channel);
  const accountId =
    asArray(conversation?.messages)
      .map((entry) => asId(wire<ChatwootSnapshotMessage>(entry)?.account_id))
      .find((id) => id !== null) ?? asId(inboxChannel?.account_id);
  return accountId ? { id: accountId } : null;
}

export function conversationExtension(
  conversation: Loose<ChatwootConversation> | null,
): JsonRecord {
  if (!conversation) return {};
  const meta = wire<ChatwootConversationMeta>(conversation.meta);
  const contactInbox = wire<ChatwootContactInbox>(conversation.contact_inbox);
  const additional = wire<{ initiated_at: unknown }>(conversation.additional_attributes);
  return compact({
    inboxId: asId(conversation.inbox_id),
    priority: asString(conversation.priority),
    canReply: asBoolean(conversation.can_reply),
    unreadCount: asNumber(conversation.unread_count),
    snoozedUntil: toIsoTime(conversation.snoozed_until),
    waitingSince: toIsoTime(conversation.waiting_since),
    firstReplyCreatedAt: toIsoTime(conversation.first_reply_created_at),
    lastActivityAt: toIsoTime(conversation.last_activity_at),
    agentLastSeenAt: toIsoTime(conversation.agent_last_seen_at),
    contactLastSeenAt: toIsoTime(conversation.contact_last_seen_at),
    updatedAt: toIsoTime(conversation.updated_at),
    initiatedAt: initiatedAtOf(additional?.initiated_at),
    assigneeType: asString(meta?.assignee_type),
    hmacVerified: asBoolean(meta?.hmac_verified) ?? asBoolean(contactInbox?.hmac_verified),
    contactInbox: contactInbox
      ? compact({ id: asId(contactInbox.id), sourceId: asString(contactInbox.source_id) })
      : null,
    additionalAttributes: omitKeys(conversation.additional_attributes, SESSION_CONVERSATION_KEYS),
    sla: compact({
      policyId: asId(conversation.sla_policy_id),
      applied: conversation.applied_sla ?? null,
      events: asArray(conversation.sla_events),
    }),
  });
}

export function messageExtension(message: AnyChatwootMessage | null): JsonRecord {
  if (!message) return {};
  return compact({
    sourceId: asString(message.source_id),
    contentType: asString(message.content_type),
    senderType: asString(message.sender_type),
    echoId: asString(message.echo_id),
    contentAttributes: recordOrEmpty(message.content_attributes),
    additionalAttributes: recordOrEmpty(message.additional_attributes),
    externalSourceIds: recordOrEmpty(message.external_source_ids),
    attachments: asArray(message.attachments).map(attachmentExtension).filter(isNonEmpty),
  });
}

function isNonEmpty(record: JsonRecord): boolean {
  return Object.keys(record).length > 0;
}

/** What an attachment says beyond the canonical url/name/mimeType/size. */
function attachmentExtension(value: unknown): JsonRecord {
  const attachment = wire<ChatwootAttachment>(value);
  if (!attachment) return {};
  return compact({
    id: asId(attachment.id),
    fileType: asString(attachment.file_type),
    extension: asString(attachment.extension),
    thumbUrl: asString(attachment.thumb_url),
    width: asNumber(attachment.width),
    height: asNumber(attachment.height),
    latitude: asNumber(attachment.coordinates_lat),
    longitude: asNumber(attachment.coordinates_long),
    fallbackTitle: asString(attachment.fallback_title),
    transcribedText: asString(attachment.transcribed_text),
  });
}

export function contactExtension(value: unknown): JsonRecord {
  const contact = wire<ChatwootContact>(value);
  if (!contact) return {};
  return compact({
    blocked: asBoolean(contact.blocked),
    additionalAttributes: omitKeys(contact.additional_attributes, [
      ...SESSION_CONTACT_KEYS,
      'description',
    ]),
  });
}

export function widgetExtension(payload: Loose<ChatwootWebwidgetTriggered>): JsonRecord {
  const eventInfo = wire<ChatwootWidgetEventInfo>(payload.event_info);
  return compact({
    contactInboxId: asId(payload.id),
    sourceId: asString(payload.source_id),
    widgetLanguage: asString(eventInfo?.widget_language),
    initiatedAt: initiatedAtOf(eventInfo?.initiated_at),
  });
}

/**
 * The inbox presenter of `inbox_*` events, minus the channel's secrets: its webhook and HMAC
 * secrets, its callback URL (which may be this router's own tokened URL) and the API inbox
 * identifier (a credential for Chatwoot's public client API).
 */
export function inboxEventExtension(payload: JsonRecord): JsonRecord {
  const inbox = withoutSecrets(omitKeys(payload, ['event', 'changed_attributes']));
  if (!isRecord(inbox)) return {};
  if (isRecord(inbox.channel)) {
    inbox.channel = omitKeys(inbox.channel, CHANNEL_CREDENTIAL_KEYS);
  }
  return inbox;
}

const CHANNEL_CREDENTIAL_KEYS = ['webhook_url', 'identifier'];
