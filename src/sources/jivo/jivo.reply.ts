import { asBoolean, asRecord, asString, isRecord, JsonRecord } from '../../canonical/coerce';
import { ReplyEnrichment } from '../source-normalizer';

/** Jivo renders at most ten custom_data fields (setCustomData's documented limit). */
export const MAX_CUSTOM_DATA_FIELDS = 10;
const MAX_FIELD_LENGTH = 2000;

/** The events whose answer Jivo shows to the agent who took the chat. */
const ENRICHABLE_EVENTS = new Set(['chat_accepted', 'chat_updated']);

/**
 * The enrichment contract: the user's endpoint answers with any of `contactInfo`, `customData`,
 * `crmLink`, `enableAssign` (Jivo's own snake_case names are accepted too); the router turns
 * that into the reply Jivo shows its agent, dropping what Jivo would not accept.
 */
export const jivoReplyEnrichment: ReplyEnrichment = {
  appliesTo(payload: JsonRecord): boolean {
    return typeof payload.event_name === 'string' && ENRICHABLE_EVENTS.has(payload.event_name);
  },

  toResponse(answer: unknown): unknown {
    if (!isRecord(answer)) return null;
    const reply: JsonRecord = { result: 'ok' };
    const contactInfo = contactInfoOf(field(answer, 'contactInfo', 'contact_info'));
    if (contactInfo) reply.contact_info = contactInfo;
    const customData = customDataOf(field(answer, 'customData', 'custom_data'));
    if (customData.length > 0) reply.custom_data = customData;
    const crmLink = httpUrl(field(answer, 'crmLink', 'crm_link'));
    if (crmLink) reply.crm_link = crmLink;
    const enableAssign = asBoolean(field(answer, 'enableAssign', 'enable_assign'));
    if (enableAssign !== null) reply.enable_assign = enableAssign;
    return reply;
  },
};

function field(answer: JsonRecord, camel: string, snake: string): unknown {
  return answer[camel] ?? answer[snake];
}

function text(value: unknown): string | null {
  const found = asString(value);
  return found === null ? null : found.slice(0, MAX_FIELD_LENGTH);
}

function httpUrl(value: unknown): string | null {
  const url = text(value);
  return url && /^https?:\/\/\S+$/i.test(url) ? url : null;
}

function contactInfoOf(value: unknown): JsonRecord | null {
  const contact = asRecord(value);
  if (!contact) return null;
  const info: JsonRecord = {};
  for (const key of ['name', 'phone', 'email', 'description']) {
    const found = text(contact[key]);
    if (found !== null) info[key] = found;
  }
  return Object.keys(info).length > 0 ? info : null;
}

function customDataOf(value: unknown): JsonRecord[] {
  if (!Array.isArray(value)) return [];
  const fields: JsonRecord[] = [];
  for (const item of value) {
    const entry = asRecord(item);
    const content = text(entry?.content);
    if (!entry || content === null) continue;
    const out: JsonRecord = { content };
    const title = text(entry.title);
    if (title !== null) out.title = title;
    const link = httpUrl(entry.link);
    if (link !== null) out.link = link;
    const key = text(entry.key);
    if (key !== null) out.key = key;
    fields.push(out);
    if (fields.length === MAX_CUSTOM_DATA_FIELDS) break;
  }
  return fields;
}
