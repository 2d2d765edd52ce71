/**
 * Wire shapes of the Jivo Webhooks API (https://www.jivochat.com/docs/webhooks/). Permissive on purpose:
 * any field may be absent or null, ids arrive as numbers or strings (sometimes both for one id
 * within one payload), and new keys appear over time. These types say what to expect, not what
 * arrived: read every value through the tolerant readers of canonical/coerce.ts.
 */

export type JivoId = string | number;

type Maybe<T> = T | null | undefined;

export const JIVO_WEBHOOK_EVENTS = [
  'chat_accepted',
  'chat_updated',
  'chat_finished',
  'offline_message',
  'client_updated',
  'client_attribute_updated',
  'chat_assigned',
  'call_event',
] as const;

export type JivoWebhookEvent = (typeof JIVO_WEBHOOK_EVENTS)[number];

export interface JivoVisitor {
  name?: Maybe<string>;
  email?: Maybe<string>;
  phone?: Maybe<string>;
  description?: Maybe<string>;
  /** Sequential visitor number: a string in chat events, a number in `client_updated`. */
  number?: Maybe<JivoId>;
  social?: Maybe<Record<string, unknown>>;
  chats_count?: Maybe<number>;
}

/** `agent`, `agents[]` and `assigned_agent` (whose id is a number where the others use strings). */
export interface JivoAgent {
  id?: Maybe<JivoId>;
  name?: Maybe<string>;
  email?: Maybe<string>;
  phone?: Maybe<string>;
}

/** `assigned_agent`: the client's responsible person; CRM Webhooks send only `assigned_agent_id`. */
export interface JivoAssignedAgent extends JivoAgent {
  assigned_agent_id?: Maybe<JivoId>;
}

/** `status`: the client's CRM category; CRM Webhooks name its id `status_id`. */
export interface JivoClientStatus extends JivoTitledRef {
  status_id?: Maybe<JivoId>;
}

/** `organization`; CRM Webhooks name its id `organization_id`. */
export interface JivoOrganization extends JivoNamedRef {
  organization_id?: Maybe<JivoId>;
}

/** Where a payload names its channel. */
export interface JivoWidgetRef {
  widget_id?: Maybe<JivoId>;
}

/** `organization` and `department`. */
export interface JivoNamedRef {
  id?: Maybe<JivoId>;
  name?: Maybe<string>;
}

/** `status` (the client's CRM category) and `tags[]`. */
export interface JivoTitledRef {
  id?: Maybe<JivoId>;
  title?: Maybe<string>;
}

export interface JivoTopic {
  topic_id?: Maybe<JivoId>;
  title?: Maybe<string>;
  parent_id?: Maybe<JivoId>;
}

export interface JivoGeoIp {
  region_code?: Maybe<string>;
  country?: Maybe<string>;
  country_code?: Maybe<string>;
  region?: Maybe<string>;
  city?: Maybe<string>;
  /** Decimal degrees, sent as a string. */
  latitude?: Maybe<string | number>;
  longitude?: Maybe<string | number>;
  /** The ISP's name. */
  organization?: Maybe<string>;
  /** Undocumented; seen in older payloads, often empty. */
  isp?: Maybe<string>;
}

export interface JivoUtm {
  source?: Maybe<string>;
  medium?: Maybe<string>;
  campaign?: Maybe<string>;
  content?: Maybe<string>;
  term?: Maybe<string>;
  /** The term, in older payloads. */
  keyword?: Maybe<string>;
}

export interface JivoSession {
  geoip?: Maybe<JivoGeoIp>;
  /** `source=google|medium=cpc|…`; null in older payloads. */
  utm?: Maybe<string>;
  /** The same data structured; absent before ~2020. */
  utm_json?: Maybe<JivoUtm>;
  ip_addr?: Maybe<string>;
  user_agent?: Maybe<string>;
}

export interface JivoPage {
  url?: Maybe<string>;
  title?: Maybe<string>;
}

export interface JivoChatMessage {
  message?: Maybe<string>;
  /** Unix seconds. */
  timestamp?: Maybe<number>;
  /** `visitor` or `agent`; other values are undocumented. */
  type?: Maybe<string>;
  /** Only on agent messages; a number where `agents[].id` is a string. */
  agent_id?: Maybe<JivoId>;
}

export interface JivoChat {
  messages?: Maybe<JivoChatMessage[]>;
  blacklisted?: Maybe<boolean>;
  rate?: Maybe<'positive' | 'negative' | string>;
  invitation?: Maybe<string>;
}

export interface JivoCall {
  type?: Maybe<'callback' | 'incoming' | 'outgoing' | string>;
  phone?: Maybe<string>;
  status?: Maybe<'start' | 'end' | 'agent_connected' | 'client_connected' | 'error' | string>;
  reason?: Maybe<string>;
  record_url?: Maybe<string>;
}

/** Every Webhooks API event shares one flat envelope; which keys appear depends on the event. */
export interface JivoWebhookPayload {
  event_name?: Maybe<string>;
  widget_id?: Maybe<JivoId>;
  /** CRM Webhooks put the channel here (as a number) instead of in `widget_id`… */
  widget?: Maybe<JivoWidgetRef>;
  /** …or, in status and task bodies, inside the client. */
  client?: Maybe<{ client_id?: Maybe<JivoId>; widget?: Maybe<JivoWidgetRef> }>;
  /** Set in the browser by `jivo_api.setUserToken`: untrusted. */
  user_token?: Maybe<string>;
  chat_id?: Maybe<JivoId>;
  client_id?: Maybe<JivoId>;
  visitor?: Maybe<JivoVisitor>;
  organization?: Maybe<JivoOrganization>;
  status?: Maybe<JivoClientStatus>;
  assigned_agent?: Maybe<JivoAssignedAgent>;
  /** Documented as an object, sent as an array. */
  tags?: Maybe<JivoTitledRef[] | Record<string, JivoTitledRef>>;
  topic?: Maybe<JivoTopic>;
  department?: Maybe<JivoNamedRef>;
  session?: Maybe<JivoSession>;
  page?: Maybe<JivoPage>;
  analytics?: Maybe<Record<string, unknown>>;
  agent?: Maybe<JivoAgent>;
  agents?: Maybe<JivoAgent[]>;
  chat?: Maybe<JivoChat>;
  plain_messages?: Maybe<string>;
  html_messages?: Maybe<string>;
  /** The offline form's text: a plain string. */
  message?: Maybe<string>;
  /** A number today, a string in 2017-era payloads. */
  offline_message_id?: Maybe<JivoId>;
  call?: Maybe<JivoCall>;
  /** `chat_assigned` (legacy): the CRM link the chat was attached to. */
  assign_to?: Maybe<string>;
  attributes?: Maybe<Record<string, string | number>>;
  [key: string]: unknown;
}
