import { contactActor, agentActor, botActor, systemActor } from '../../canonical/actors';
import { createHash } from 'node:crypto';
import {
  Actor,
  Agent,
  Attachment,
  AttachmentType,
  Channel,
  ChannelType,
  Contact,
  Message,
  MessageDirection,
  MessageKind,
} from '../../canonical/canonical-event';
import {
  JsonRecord,
  asId,
  asNumber,
  asRecord,
  asString,
  toE164,
  toIsoTime,
} from '../../canonical/coerce';
import { JivoBotAgent, JivoBotChannel, JivoBotPayload, JivoBotSender } from './jivo-bot.payload';

/** Readers from one Bot API wire object to one canonical value; none ever throws. */

function anyKnown(values: unknown[]): boolean {
  return values.some((value) => value !== null);
}

export function senderOf(payload: JivoBotPayload): JivoBotSender | null {
  return asRecord(payload.sender) as JivoBotSender | null;
}

export function channelOf(payload: JivoBotPayload): JivoBotChannel | null {
  return asRecord(payload.channel) as JivoBotChannel | null;
}

/** The message object; a bare string is read as its text. */
export function messageOf(payload: JivoBotPayload): JsonRecord | null {
  if (typeof payload.message === 'string') return { text: payload.message };
  return asRecord(payload.message);
}

const CHANNEL_TYPES = new Map<string, ChannelType>([
  ['widget', 'web_widget'],
  ['web_widget', 'web_widget'],
  ['site', 'web_widget'],
  ['telegram', 'telegram'],
  ['whatsapp', 'whatsapp'],
  ['facebook', 'facebook'],
  ['fb', 'facebook'],
  ['instagram', 'instagram'],
  ['email', 'email'],
  ['sms', 'sms'],
  ['phone', 'phone'],
  ['viber', 'viber'],
  ['vk', 'vk'],
  ['api', 'api'],
]);

export function channelTypeOf(value: unknown): ChannelType | null {
  const spelled = asString(value)?.trim().toLowerCase();
  return spelled === undefined ? null : (CHANNEL_TYPES.get(spelled) ?? null);
}

export function readChannel(payload: JivoBotPayload): Channel | null {
  const channel = channelOf(payload);
  const externalId = asId(channel?.id);
  const name = asString(channel?.name);
  const spelled = asString(channel?.type);
  if (!anyKnown([externalId, name, spelled])) return null;
  return { type: channelTypeOf(spelled) ?? 'unknown', externalId, name };
}

export function readAgent(value: unknown): Agent | null {
  const agent = asRecord(value) as JivoBotAgent | null;
  const read: Agent = {
    externalId: asId(agent?.id),
    name: asString(agent?.name),
    email: asString(agent?.email),
    phone: asString(agent?.phone),
    kind: 'human',
  };
  return anyKnown([read.externalId, read.name, read.email, read.phone]) ? read : null;
}

/** No agent body is documented: take `agent`, else `sender` as CLIENT_MESSAGE uses it. */
export function eventAgent(payload: JivoBotPayload): Agent | null {
  return readAgent(payload.agent) ?? readAgent(payload.sender);
}

/** `client_id` names the contact on every event; `sender` describes it only where it is the client. */
export function readContact(payload: JivoBotPayload, senderIsClient: boolean): Contact | null {
  const sender = senderIsClient ? senderOf(payload) : null;
  const phone = asString(sender?.phone);
  const contact: Contact = {
    externalId: asId(payload.client_id) ?? asId(sender?.id),
    name: asString(sender?.name),
    email: asString(sender?.email),
    phone,
    phoneE164: toE164(phone),
    description: null,
    avatarUrl: null,
    attributes: {},
    userToken: null,
    chatsCount: null,
  };
  return anyKnown([contact.externalId, contact.name, contact.email, phone]) ? contact : null;
}

// Media types are undocumented for the Bot API: these are the spellings other Jivo channels use.
const MEDIA_TYPES = new Map<string, AttachmentType>([
  ['PHOTO', 'image'],
  ['IMAGE', 'image'],
  ['STICKER', 'image'],
  ['VIDEO', 'video'],
  ['AUDIO', 'audio'],
  ['VOICE', 'audio'],
  ['FILE', 'file'],
  ['DOCUMENT', 'file'],
  ['LOCATION', 'location'],
]);

export const MEDIA_KEYS = [
  'file',
  'url',
  'file_url',
  'file_name',
  'name',
  'mime_type',
  'file_size',
  'size',
] as const;

export function messageTypeOf(message: JsonRecord | null): string | null {
  return asString(message?.type)?.trim().toUpperCase() ?? null;
}

export function isMediaType(type: string | null): boolean {
  return type !== null && MEDIA_TYPES.has(type);
}

function readAttachments(message: JsonRecord, type: string | null): Attachment[] {
  const mediaType = type === null ? undefined : MEDIA_TYPES.get(type);
  if (mediaType === undefined) return [];
  return [
    {
      type: mediaType,
      url: asString(message.file) ?? asString(message.url) ?? asString(message.file_url),
      name: asString(message.file_name) ?? asString(message.name),
      mimeType: asString(message.mime_type),
      size: asNumber(message.file_size) ?? asNumber(message.size),
    },
  ];
}

function messageKind(type: string | null, attachments: Attachment[]): MessageKind {
  if (type === 'BUTTONS') return 'input';
  return attachments.length > 0 ? 'attachment' : 'text';
}

/** Bot API messages carry no id: derive one from what identifies the message in its chat. */
function derivedMessageId(parts: unknown[]): string {
  return createHash('sha1').update(JSON.stringify(parts)).digest('hex').slice(0, 24);
}

export interface MessageContext {
  chatId: string | null;
  eventId: string | null;
  direction: MessageDirection;
  sender: Actor;
}

export function readMessage(payload: JivoBotPayload, context: MessageContext): Message | null {
  const message = messageOf(payload);
  if (!message) return null;
  const type = messageTypeOf(message);
  const text = asString(message.text);
  const createdAt = toIsoTime(message.timestamp);
  const attachments = readAttachments(message, type);
  return {
    externalId:
      asId(message.id) ??
      derivedMessageId([context.chatId, context.eventId, createdAt, type, text]),
    direction: context.direction,
    kind: messageKind(type, attachments),
    text,
    attachments,
    sender: context.sender,
    createdAt,
    private: false,
    deleted: false,
    status: null,
  };
}

/** The event's own time: the message's timestamp, else a top-level one. */
export function occurredAtOf(payload: JivoBotPayload): string | null {
  return toIsoTime(messageOf(payload)?.timestamp) ?? toIsoTime(payload.timestamp);
}

export { contactActor, agentActor, botActor, systemActor };
