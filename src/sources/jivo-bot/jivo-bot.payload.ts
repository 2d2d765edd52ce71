/**
 * Wire shapes of the Jivo Bot API (https://www.jivochat.com/docs/bot/). Permissive on purpose: only
 * CLIENT_MESSAGE has an official example; the other bodies are known from integrators, and ids
 * arrive as strings or numbers (`sender.id` is a number equal to the string `client_id`). These
 * types say what to expect, not what arrived: read every value through canonical/coerce.ts.
 */

export type JivoBotId = string | number;

type Maybe<T> = T | null | undefined;

/** Jivo → bot provider: what a provider endpoint receives. */
export const JIVO_BOT_INBOUND_EVENTS = [
  'CLIENT_MESSAGE',
  'AGENT_JOINED',
  'AGENT_MESSAGE',
  'AGENT_UNAVAILABLE',
  'CHAT_CLOSED',
] as const;

/** Bot provider → Jivo: ours to send, mapped too in case a relay forwards them here. */
export const JIVO_BOT_OUTBOUND_EVENTS = ['BOT_MESSAGE', 'INVITE_AGENT', 'CLIENT_INFO'] as const;

export type JivoBotEvent =
  (typeof JIVO_BOT_INBOUND_EVENTS)[number] | (typeof JIVO_BOT_OUTBOUND_EVENTS)[number];

/** The client on CLIENT_MESSAGE; by analogy, the agent on agent events. */
export interface JivoBotSender {
  id?: Maybe<JivoBotId>;
  name?: Maybe<string>;
  url?: Maybe<string>;
  has_contacts?: Maybe<boolean>;
  email?: Maybe<string>;
  phone?: Maybe<string>;
}

/** Undocumented on AGENT_JOINED / AGENT_MESSAGE; read when present, shaped like the Webhooks API agent. */
export interface JivoBotAgent {
  id?: Maybe<JivoBotId>;
  name?: Maybe<string>;
  email?: Maybe<string>;
  phone?: Maybe<string>;
}

export interface JivoBotButton {
  id?: Maybe<JivoBotId>;
  text?: Maybe<string>;
}

export interface JivoBotMessage {
  id?: Maybe<JivoBotId>;
  /** `TEXT`, `MARKDOWN`, `BUTTONS`; media types are undocumented. */
  type?: Maybe<string>;
  text?: Maybe<string>;
  /** Unix seconds (some integrators send milliseconds). */
  timestamp?: Maybe<number | string>;
  /** The button a client pressed (integrator models only). */
  button_id?: Maybe<JivoBotId>;
  title?: Maybe<string>;
  buttons?: Maybe<JivoBotButton[]>;
  force_reply?: Maybe<boolean>;
  file?: Maybe<string>;
  url?: Maybe<string>;
  file_url?: Maybe<string>;
  file_name?: Maybe<string>;
  name?: Maybe<string>;
  mime_type?: Maybe<string>;
  file_size?: Maybe<number>;
  size?: Maybe<number>;
}

export interface JivoBotChannel {
  id?: Maybe<JivoBotId>;
  /** `widget`; messenger spellings are undocumented. */
  type?: Maybe<string>;
  name?: Maybe<string>;
}

/** One flat envelope for every Bot API event; which keys appear depends on the event. */
export interface JivoBotPayload {
  /** Event id (a UUID): the dedupe key across Jivo's retries. */
  id?: Maybe<JivoBotId>;
  event?: Maybe<string>;
  /** The Jivo account. */
  site_id?: Maybe<JivoBotId>;
  client_id?: Maybe<JivoBotId>;
  chat_id?: Maybe<JivoBotId>;
  agents_online?: Maybe<boolean>;
  sender?: Maybe<JivoBotSender>;
  message?: Maybe<JivoBotMessage | string>;
  channel?: Maybe<JivoBotChannel>;
  agent?: Maybe<JivoBotAgent>;
  timestamp?: Maybe<number | string>;
  [key: string]: unknown;
}
