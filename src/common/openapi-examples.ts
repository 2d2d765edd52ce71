/**
 * Example values shown in the OpenAPI document (GET /docs). Plain data only: the decorators that
 * use them live in openapi.ts. Keep them realistic and short; the e2e spec sends some of them.
 */
import type { ErrorBody } from './http-error.filter';

export const EXAMPLE_IDS = {
  source: 'src_01JDA1Z6X4K8M2N5P7Q9R3S6TV',
  subscription: 'sub_01JDA20QK7H3V9W2X5Y8Z1B4CD',
  event: 'evt_01JDA2B8N6M4P2Q7R5S3T1V9WX',
  delivery: 'dlv_01JDA2C3D5F7G9H1J3K5M7N9PQ',
} as const;

export const EXAMPLE_TIMESTAMP = '2026-04-16T14:05:40.913Z';

/** Error bodies as HttpErrorFilter writes them, by name. */
export const ERROR_EXAMPLES = {
  validationFailed: {
    statusCode: 400,
    error: 'validation_failed',
    message: 'Invalid fields: name, signatureHeaderPrefix',
    details: [
      { field: 'name', problems: ['name should not be empty'] },
      {
        field: 'signatureHeaderPrefix',
        problems: ['signatureHeaderPrefix may hold letters, digits and -'],
      },
    ],
  },
  invalidJson: {
    statusCode: 400,
    error: 'invalid_json',
    message: 'Body is not valid JSON: Unexpected end of JSON input',
  },
  invalidBody: { statusCode: 400, error: 'invalid_body', message: 'Body must be a JSON object' },
  missingAdminKey: {
    statusCode: 401,
    error: 'unauthorized',
    message: 'Missing admin key: send Authorization: Bearer <key>',
  },
  invalidAdminKey: { statusCode: 401, error: 'unauthorized', message: 'Invalid admin key' },
  signatureInvalid: { statusCode: 401, error: 'signature_invalid', message: 'signature mismatch' },
  widgetNotAllowed: {
    statusCode: 401,
    error: 'signature_invalid',
    message: 'widget_id 3948 is not allowed on this source',
  },
  notFound: {
    statusCode: 404,
    error: 'not_found',
    message: `Source ${EXAMPLE_IDS.source} not found`,
  },
  unknownWebhookEndpoint: {
    statusCode: 404,
    error: 'not_found',
    message: 'Unknown webhook endpoint',
  },
  payloadTooLarge: {
    statusCode: 413,
    error: 'payload_too_large',
    message: 'Request body is too large',
  },
  queueUnavailable: {
    statusCode: 503,
    error: 'queue_unavailable',
    message: 'The event could not be stored; retry later',
  },
} satisfies Record<string, ErrorBody>;

/** A Jivo Webhooks API `chat_accepted`, shortened from test/fixtures/jivo/chat_accepted.json. */
export const JIVO_WEBHOOK_EXAMPLE = {
  event_name: 'chat_accepted',
  widget_id: '3948',
  chat_id: 7636,
  visitor: {
    name: 'John Smith',
    email: 'email@example.com',
    phone: '+14084987855',
    number: '2198',
    chats_count: 1,
  },
  agent: { id: '2016', name: 'Thomas Anderson', email: 'agent@jivosite.com' },
  department: { id: 281, name: 'Sales' },
  page: { url: 'http://example.com/', title: 'Page title' },
};

/** A Jivo Bot API `CLIENT_MESSAGE` (test/fixtures/jivo/bot_client_message.json). */
export const JIVO_BOT_WEBHOOK_EXAMPLE = {
  id: '9661ab9c-48b0-11ed-a3d6-859398ff9bd9',
  site_id: '123456',
  client_id: '1233',
  chat_id: '2037',
  agents_online: true,
  sender: { id: 1233, name: 'John Smith', url: 'https://test.com', has_contacts: true },
  message: { type: 'TEXT', text: 'Can you help me?', timestamp: 1665415879 },
  channel: { id: '12345678', type: 'widget' },
  event: 'CLIENT_MESSAGE',
};

/** A Chatwoot `message_created`, shortened from test/fixtures/chatwoot/message_created.json. */
export const CHATWOOT_WEBHOOK_EXAMPLE = {
  event: 'message_created',
  id: 88122,
  content: 'Hello, I have a question about order 4471',
  content_type: 'text',
  message_type: 'incoming',
  private: false,
  created_at: '2026-04-16T14:05:40.913Z',
  account: { id: 3, name: 'Acme Retail' },
  inbox: { id: 11, name: 'Acme Website' },
  sender: { id: 5821, name: 'Mariana Costa', email: 'mariana@example.com', type: 'contact' },
  conversation: { id: 1042, inbox_id: 11, status: 'open', channel: 'Channel::WebWidget' },
};

/** Jivo's answer when the source enriches it (docs/jivo-enrichment.md). */
export const JIVO_ENRICHED_REPLY_EXAMPLE = {
  result: 'ok',
  contact_info: { name: 'John Smith', phone: '+14084987855', email: 'email@example.com' },
  custom_data: [{ title: 'Plan', content: 'Business, renews 2026-09-01' }],
  crm_link: 'https://crm.example.com/contacts/2198',
};
