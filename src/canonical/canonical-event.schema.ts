import Ajv, { ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { CANONICAL_EVENT_TYPES, CanonicalEvent } from './canonical-event';

/**
 * JSON Schema of the canonical event (v2). Every declared field is required (null when
 * unknown) and no undeclared field may appear outside `attributes`, `changes` and `extensions`.
 */
const nullableString = { type: ['string', 'null'] };
const isoTime = { type: 'string', format: 'date-time' };
const nullableIsoTime = { anyOf: [isoTime, { type: 'null' }] };
const nullableNumber = { type: ['number', 'null'] };

function object(properties: Record<string, unknown>) {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

function nullable(schema: Record<string, unknown>) {
  return { anyOf: [schema, { type: 'null' }] };
}

const enumOf = (values: readonly string[]) => ({ type: 'string', enum: [...values] });

const agent = object({
  externalId: nullableString,
  name: nullableString,
  email: nullableString,
  phone: nullableString,
  kind: enumOf(['human', 'bot']),
});

const actor = object({
  type: enumOf(['contact', 'agent', 'bot', 'system']),
  externalId: nullableString,
  name: nullableString,
  email: nullableString,
});

const attachment = object({
  type: enumOf(['image', 'audio', 'video', 'file', 'location', 'other']),
  url: nullableString,
  name: nullableString,
  mimeType: nullableString,
  size: nullableNumber,
});

const message = object({
  externalId: { type: 'string', minLength: 1 },
  direction: enumOf(['inbound', 'outbound', 'internal']),
  kind: enumOf(['text', 'attachment', 'template', 'input', 'system']),
  text: nullableString,
  attachments: { type: 'array', items: attachment },
  sender: nullable(actor),
  createdAt: nullableIsoTime,
  private: { type: 'boolean' },
  deleted: { type: 'boolean' },
  status: { anyOf: [enumOf(['sent', 'delivered', 'read', 'failed']), { type: 'null' }] },
});

const routerId = (prefix: string) => ({
  anyOf: [{ type: 'string', pattern: `^${prefix}_[0-9A-Z]{26}$` }, { type: 'null' }],
});

const conversation = object({
  id: routerId('conv'),
  key: { type: 'string', pattern: '^[^:]+:[^:]+:[\\s\\S]+$' },
  externalId: { type: 'string', minLength: 1 },
  status: enumOf(['open', 'pending', 'snoozed', 'resolved', 'offline', 'unknown']),
  channel: nullable(
    object({
      type: enumOf([
        'web_widget',
        'telegram',
        'whatsapp',
        'facebook',
        'instagram',
        'email',
        'sms',
        'phone',
        'api',
        'viber',
        'vk',
        'unknown',
      ]),
      externalId: nullableString,
      name: nullableString,
    }),
  ),
  team: nullable(object({ externalId: nullableString, name: nullableString })),
  assignee: nullable(agent),
  agents: { type: 'array', items: agent },
  labels: { type: 'array', items: { type: 'string' } },
  rating: { anyOf: [enumOf(['positive', 'negative']), { type: 'null' }] },
  startedAt: nullableIsoTime,
  endedAt: nullableIsoTime,
  attributes: { type: 'object' },
});

const contact = object({
  id: routerId('ct'),
  externalId: nullableString,
  name: nullableString,
  email: nullableString,
  phone: nullableString,
  phoneE164: { anyOf: [{ type: 'string', pattern: '^\\+[1-9]\\d{6,14}$' }, { type: 'null' }] },
  description: nullableString,
  avatarUrl: nullableString,
  attributes: { type: 'object' },
  userToken: nullableString,
  chatsCount: nullableNumber,
});

const session = object({
  ip: nullableString,
  userAgent: nullableString,
  language: nullableString,
  referrer: nullableString,
  page: nullable(object({ url: nullableString, title: nullableString })),
  geo: nullable(
    object({
      country: nullableString,
      countryCode: nullableString,
      region: nullableString,
      regionCode: nullableString,
      city: nullableString,
      latitude: nullableNumber,
      longitude: nullableNumber,
      organization: nullableString,
    }),
  ),
  utm: nullable(
    object({
      source: nullableString,
      medium: nullableString,
      campaign: nullableString,
      content: nullableString,
      term: nullableString,
    }),
  ),
  browser: nullable(
    object({
      name: nullableString,
      version: nullableString,
      platform: nullableString,
      platformVersion: nullableString,
      device: nullableString,
    }),
  ),
});

export const CANONICAL_EVENT_JSON_SCHEMA = {
  $id: 'https://webhook-router.dev/schemas/canonical-event.v2.json',
  ...object({
    id: { type: 'string', minLength: 1 },
    type: enumOf(CANONICAL_EVENT_TYPES),
    schemaVersion: { const: 2 },
    occurredAt: isoTime,
    receivedAt: isoTime,
    source: object({
      kind: { type: 'string', minLength: 1 },
      id: { type: 'string', minLength: 1 },
      event: { type: 'string' },
      deliveryId: nullableString,
    }),
    conversation: nullable(conversation),
    contact: nullable(contact),
    actor: nullable(actor),
    message: nullable(message),
    messages: { type: 'array', items: message },
    changes: nullable({
      type: 'object',
      additionalProperties: object({ previous: {}, current: {} }),
    }),
    session: nullable(session),
    extensions: { type: 'object', additionalProperties: { type: 'object' } },
  }),
};

let compiled: ValidateFunction | null = null;

/** The problems with a canonical event, as `path: message` lines; empty when it is valid. */
export function canonicalEventProblems(event: CanonicalEvent | unknown): string[] {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(ajv);
    compiled = ajv.compile(CANONICAL_EVENT_JSON_SCHEMA);
  }
  if (compiled(event)) return [];
  return (compiled.errors ?? []).map(
    (error) => `${error.instancePath || '/'}: ${error.message ?? 'invalid'}`,
  );
}
