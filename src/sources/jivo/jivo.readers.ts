import { agentActor, contactActor, systemActor } from '../../canonical/actors';
import { Agent, Contact, GeoLocation, Session, Team, Utm } from '../../canonical/canonical-event';
import {
  asArray,
  asId,
  asNumber,
  asRecord,
  asString,
  isRecord,
  recordOrEmpty,
  toE164,
} from '../../canonical/coerce';
import {
  JivoAgent,
  JivoAssignedAgent,
  JivoCall,
  JivoClientStatus,
  JivoGeoIp,
  JivoNamedRef,
  JivoOrganization,
  JivoPage,
  JivoSession,
  JivoTitledRef,
  JivoTopic,
  JivoVisitor,
  JivoWebhookPayload,
  JivoWidgetRef,
} from './jivo.payload';

/** Readers from one Jivo wire object to one canonical (or extension) value; none ever throws. */

type Wire<T> = T | null;

function wire<T>(value: unknown): Wire<T> {
  return asRecord(value) as Wire<T>;
}

function anyKnown(values: unknown[]): boolean {
  return values.some((value) => value !== null);
}

/** `widget_id` in the Webhooks API; `widget.widget_id` or `client.widget.widget_id` in CRM Webhooks. */
export function widgetIdOf(payload: JivoWebhookPayload): string | null {
  return (
    asId(payload.widget_id) ??
    asId(wire<JivoWidgetRef>(payload.widget)?.widget_id) ??
    asId(wire<JivoWidgetRef>(wire<{ widget?: unknown }>(payload.client)?.widget)?.widget_id)
  );
}

export function readAgent(value: unknown): Agent | null {
  const agent = wire<JivoAgent>(value);
  return agent && agentWithId(agent, agent.id);
}

function agentWithId(agent: JivoAgent, id: unknown): Agent | null {
  const read: Agent = {
    externalId: asId(id),
    name: asString(agent.name),
    email: asString(agent.email),
    phone: asString(agent.phone),
    kind: 'human',
  };
  return anyKnown([read.externalId, read.name, read.email, read.phone]) ? read : null;
}

/** The client's responsible person in Jivo's CRM (never the chat's agent). */
export function readAssignedAgent(value: unknown): Agent | null {
  const agent = wire<JivoAssignedAgent>(value);
  return agent && agentWithId(agent, agent.id ?? agent.assigned_agent_id);
}

/** `agents[]` then `agent`, once each (compared by id, as strings). */
export function readAgents(payload: JivoWebhookPayload): Agent[] {
  const byIdentity = new Map<string, Agent>();
  for (const agent of [...asArray(payload.agents), payload.agent].map(readAgent)) {
    if (!agent) continue;
    const identity = agent.externalId ?? JSON.stringify(agent);
    if (!byIdentity.has(identity)) byIdentity.set(identity, agent);
  }
  return [...byIdentity.values()];
}

export function readTeam(value: unknown): Team | null {
  const department = wire<JivoNamedRef>(value);
  const team: Team = { externalId: asId(department?.id), name: asString(department?.name) };
  return anyKnown([team.externalId, team.name]) ? team : null;
}

/** Tags are documented as an object and sent as an array: accept both. */
function tagItems(value: unknown): unknown[] {
  return isRecord(value) ? Object.values(value) : asArray(value);
}

export function readLabels(value: unknown): string[] {
  const titles = tagItems(value).map((tag) => asString(wire<JivoTitledRef>(tag)?.title));
  return [...new Set(titles.filter((title): title is string => title !== null))];
}

interface TitledRef {
  id: string | null;
  title: string | null;
}

export function readTags(value: unknown): TitledRef[] | null {
  if (!Array.isArray(value) && !isRecord(value)) return null;
  return tagItems(value)
    .map(readTitledRef)
    .filter((tag): tag is TitledRef => tag !== null);
}

export function readTitledRef(value: unknown): TitledRef | null {
  const ref = wire<JivoTitledRef>(value);
  return titledRef(ref?.id, ref?.title);
}

function titledRef(id: unknown, title: unknown): TitledRef | null {
  const read = { id: asId(id), title: asString(title) };
  return anyKnown([read.id, read.title]) ? read : null;
}

/** The client's CRM category, `{id, title}`; CRM Webhooks name the id `status_id`. */
export function readClientStatus(value: unknown): TitledRef | null {
  const status = wire<JivoClientStatus>(value);
  return status && titledRef(status.id ?? status.status_id, status.title);
}

export function readNamedRef(value: unknown): NamedRef | null {
  const ref = wire<JivoNamedRef>(value);
  return namedRef(ref?.id, ref?.name);
}

type NamedRef = { id: string | null; name: string | null };

function namedRef(id: unknown, name: unknown): NamedRef | null {
  const read = { id: asId(id), name: asString(name) };
  return anyKnown([read.id, read.name]) ? read : null;
}

/** The client's company, `{id, name}`; CRM Webhooks name the id `organization_id`. */
export function readOrganization(value: unknown): NamedRef | null {
  const organization = wire<JivoOrganization>(value);
  return (
    organization && namedRef(organization.id ?? organization.organization_id, organization.name)
  );
}

export function readTopic(value: unknown): Record<string, string | null> | null {
  const topic = wire<JivoTopic>(value);
  const read = {
    id: asId(topic?.topic_id),
    title: asString(topic?.title),
    parentId: asId(topic?.parent_id),
  };
  return anyKnown(Object.values(read)) ? read : null;
}

export function readCall(value: unknown): Record<string, string | null> | null {
  const call = wire<JivoCall>(value);
  if (!call) return null;
  return {
    type: asString(call.type),
    phone: asString(call.phone),
    status: asString(call.status),
    reason: asString(call.reason),
    recordUrl: asString(call.record_url),
  };
}

export function readRating(value: unknown): 'positive' | 'negative' | null {
  const rate = asString(value)?.trim().toLowerCase();
  return rate === 'positive' || rate === 'negative' ? rate : null;
}

/** A record with at least one key, copied; else null. */
export function nonEmptyRecord(value: unknown): Record<string, unknown> | null {
  const record = recordOrEmpty(value);
  return Object.keys(record).length > 0 ? record : null;
}

function sessionOf(payload: JivoWebhookPayload): Wire<JivoSession> {
  return wire<JivoSession>(payload.session);
}

/** Geo-IP country of the visit: the only honest default region for a phone typed without `+`. */
function visitCountry(payload: JivoWebhookPayload): string | undefined {
  const code = asString(wire<JivoGeoIp>(sessionOf(payload)?.geoip)?.country_code);
  return code !== null && /^[A-Za-z]{2}$/.test(code) ? code.toUpperCase() : undefined;
}

/** For client_* events the client id is the subject; chat events carry only the visitor number. */
function contactExternalId(payload: JivoWebhookPayload): string | null {
  return asId(payload.client_id) ?? asId(wire<JivoVisitor>(payload.visitor)?.number);
}

export function readContact(payload: JivoWebhookPayload): Contact | null {
  const visitor = wire<JivoVisitor>(payload.visitor);
  const phone = asString(visitor?.phone) ?? asString(wire<JivoCall>(payload.call)?.phone);
  const contact: Contact = {
    externalId: contactExternalId(payload),
    name: asString(visitor?.name),
    email: asString(visitor?.email),
    phone,
    phoneE164: toE164(phone, visitCountry(payload)),
    description: asString(visitor?.description),
    avatarUrl: null,
    attributes: recordOrEmpty(payload.attributes),
    userToken: asString(payload.user_token),
    chatsCount: asNumber(visitor?.chats_count),
  };
  const { attributes, ...scalars } = contact;
  return anyKnown(Object.values(scalars)) || Object.keys(attributes).length > 0 ? contact : null;
}

export function readSession(payload: JivoWebhookPayload): Session | null {
  const session = sessionOf(payload);
  const read: Session = {
    ip: asString(session?.ip_addr),
    userAgent: asString(session?.user_agent),
    language: null,
    referrer: null,
    page: readPage(payload.page),
    geo: readGeo(session?.geoip),
    utm: readUtm(session),
    browser: null,
  };
  return anyKnown(Object.values(read)) ? read : null;
}

function readPage(value: unknown): Session['page'] {
  const page = wire<JivoPage>(value);
  const read = { url: asString(page?.url), title: asString(page?.title) };
  return anyKnown(Object.values(read)) ? read : null;
}

function coordinate(value: unknown, limit: number): number | null {
  const degrees = asNumber(value);
  return degrees !== null && Math.abs(degrees) <= limit ? degrees : null;
}

function readGeo(value: unknown): GeoLocation | null {
  const geoip = wire<JivoGeoIp>(value);
  const read: GeoLocation = {
    country: asString(geoip?.country),
    countryCode: asString(geoip?.country_code),
    region: asString(geoip?.region),
    regionCode: asString(geoip?.region_code),
    city: asString(geoip?.city),
    latitude: coordinate(geoip?.latitude, 90),
    longitude: coordinate(geoip?.longitude, 180),
    organization: asString(geoip?.organization) ?? asString(geoip?.isp),
  };
  return anyKnown(Object.values(read)) ? read : null;
}

const UTM_FIELDS = ['source', 'medium', 'campaign', 'content', 'term'] as const;
type UtmField = (typeof UTM_FIELDS)[number];

/** Older payloads name the term `keyword`, in `utm_json` and in the `utm` string alike. */
const UTM_OLD_NAMES: Partial<Record<UtmField, string>> = { term: 'keyword' };

/** A UTM field's value under its name, else under its old name. */
function utmValue(field: UtmField, lookup: (name: string) => string | null | undefined) {
  const oldName = UTM_OLD_NAMES[field];
  return lookup(field) ?? (oldName === undefined ? null : lookup(oldName)) ?? null;
}

/** `source=google|medium=cpc|…` (keys may carry a `utm_` prefix); the first value of a key wins. */
export function parseUtmString(value: unknown): Partial<Utm> {
  if (typeof value !== 'string') return {};
  const pairs = new Map<string, string>();
  for (const pair of value.split('|')) {
    const separator = pair.indexOf('=');
    const key = pair.slice(0, separator).trim().toLowerCase().replace(/^utm_/, '');
    const text = pair.slice(separator + 1).trim();
    if (separator > 0 && text !== '' && !pairs.has(key)) pairs.set(key, text);
  }
  const parsed: Partial<Utm> = {};
  for (const field of UTM_FIELDS) {
    const text = utmValue(field, (name) => pairs.get(name));
    if (text !== null) parsed[field] = text;
  }
  return parsed;
}

/** `utm_json` is the structured copy of `utm`: prefer it, field by field. */
function readUtm(session: Wire<JivoSession>): Utm | null {
  const structured = asRecord(session?.utm_json);
  const parsed = parseUtmString(session?.utm);
  const read = {} as Utm;
  for (const field of UTM_FIELDS) {
    read[field] = utmValue(field, (name) => asString(structured?.[name])) ?? parsed[field] ?? null;
  }
  return anyKnown(Object.values(read)) ? read : null;
}

export { agentActor, contactActor, systemActor };
