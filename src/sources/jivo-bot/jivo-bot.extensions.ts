import {
  JsonRecord,
  asArray,
  asBoolean,
  asId,
  asRecord,
  asString,
  isRecord,
  toIsoTime,
} from '../../canonical/coerce';
import { JivoBotButton, JivoBotPayload } from './jivo-bot.payload';
import {
  MEDIA_KEYS,
  channelOf,
  channelTypeOf,
  isMediaType,
  messageOf,
  messageTypeOf,
  senderOf,
} from './jivo-bot.readers';

/** Whether the normalizer could use a value it reads; anything else is kept as unmapped. */
type Readable = (value: unknown) => boolean;

const scalar: Readable = (value) => asString(value) !== null;
const id: Readable = (value) => asId(value) !== null;
const flag: Readable = (value) => asBoolean(value) !== null;
const time: Readable = (value) => toIsoTime(value) !== null;

const ENVELOPE_KEYS: Record<string, Readable> = {
  id: (value) => asId(value) !== null,
  event: (value) => typeof value === 'string',
  site_id: id,
  client_id: id,
  chat_id: (value) => asId(value) !== null,
  agents_online: flag,
  timestamp: time,
  sender: isRecord,
  channel: isRecord,
};

const MESSAGE_KEYS: Record<string, Readable> = {
  id,
  type: scalar,
  text: scalar,
  timestamp: time,
  button_id: id,
  title: scalar,
  buttons: Array.isArray,
  force_reply: flag,
};

const MEDIA_KEY_READERS: Record<string, Readable> = Object.fromEntries(
  MEDIA_KEYS.map((key) => [key, scalar]),
);

/** Read from `sender` on every event; its other keys only where it is the contact or the agent. */
const SENDER_KEYS: Record<string, Readable> = { id, url: scalar, has_contacts: flag };

const PERSON_KEYS: Record<string, Readable> = {
  ...SENDER_KEYS,
  name: scalar,
  email: scalar,
  phone: scalar,
};

const CHANNEL_KEYS: Record<string, Readable> = { id, type: scalar, name: scalar };

/** Entries of `record` the normalizer does not read or cannot use, under `prefix`. */
function leftovers(
  record: object | null,
  readers: Record<string, Readable>,
  prefix = '',
): [string, unknown][] {
  if (!record) return [];
  return Object.entries(record)
    .filter(
      ([key, value]) =>
        value !== null &&
        value !== undefined &&
        !(Object.hasOwn(readers, key) && readers[key](value)),
    )
    .map(([key, value]) => [`${prefix}${key}`, value]);
}

function messageReaders(message: JsonRecord | null): Record<string, Readable> {
  return isMediaType(messageTypeOf(message))
    ? { ...MEDIA_KEY_READERS, ...MESSAGE_KEYS }
    : MESSAGE_KEYS;
}

/** What no reader took, top-level keys as sent and nested ones dotted (`message.foo`). */
function unmapped(payload: JivoBotPayload, reads: EventReads): JsonRecord | null {
  const message = reads.message && typeof payload.message !== 'string' ? messageOf(payload) : null;
  const readers: Record<string, Readable> = { ...ENVELOPE_KEYS };
  if (reads.message) readers.message = (value) => typeof value === 'string' || isRecord(value);
  if (reads.senderAs === 'agent') readers.agent = isRecord;
  const entries = [
    ...leftovers(payload, readers),
    ...leftovers(message, messageReaders(message), 'message.'),
    ...leftovers(senderOf(payload), reads.senderAs ? PERSON_KEYS : SENDER_KEYS, 'sender.'),
    ...leftovers(
      reads.senderAs === 'agent' ? asRecord(payload.agent) : null,
      PERSON_KEYS,
      'agent.',
    ),
    ...leftovers(channelOf(payload), CHANNEL_KEYS, 'channel.'),
  ];
  return entries.length > 0 ? Object.fromEntries(entries) : null;
}

function readButtons(value: unknown): { id: string | null; text: string | null }[] | null {
  if (!Array.isArray(value)) return null;
  return asArray(value)
    .map((item) => asRecord(item) as JivoBotButton | null)
    .map((button) => ({ id: asId(button?.id), text: asString(button?.text) }))
    .filter((button) => button.id !== null || button.text !== null);
}

/** What the event's rule reads beyond the envelope. */
export interface EventReads {
  message: boolean;
  /** Whom `sender` (and, for agents, `agent`) describes. */
  senderAs: 'contact' | 'agent' | null;
}

export interface ExtensionContext {
  reads: EventReads;
  unknownEvent: boolean;
  /** Ids already in canonical fields, so `sender.id` is kept only when it says more. */
  contactId: string | null;
  agentId: string | null;
}

function messageExtensions(message: JsonRecord | null): Record<string, unknown> {
  return {
    messageType: asString(message?.type),
    buttonId: asId(message?.button_id),
    title: asString(message?.title),
    buttons: readButtons(message?.buttons),
    forceReply: asBoolean(message?.force_reply),
  };
}

/** What the Bot API sent that has no canonical field; absent and null values are left out. */
export function jivoBotExtensions(
  payload: JivoBotPayload,
  context: ExtensionContext,
): Record<string, unknown> {
  const sender = senderOf(payload);
  const senderId = asId(sender?.id);
  const channelType = asString(channelOf(payload)?.type);
  const extension: Record<string, unknown> = {
    siteId: asId(payload.site_id),
    agentsOnline: asBoolean(payload.agents_online),
    senderId: senderId === context.contactId || senderId === context.agentId ? null : senderId,
    senderUrl: asString(sender?.url),
    senderHasContacts: asBoolean(sender?.has_contacts),
    channelType: channelTypeOf(channelType) === null ? channelType : null,
    ...(context.reads.message ? messageExtensions(messageOf(payload)) : {}),
    unmapped: context.unknownEvent ? null : unmapped(payload, context.reads),
    payload: context.unknownEvent ? { ...payload } : null,
  };
  return Object.fromEntries(
    Object.entries(extension).filter(([, value]) => value !== null && value !== undefined),
  );
}
