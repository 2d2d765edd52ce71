import type { PathsObject } from '@nestjs/swagger';
import { errorResponse, queueUnavailableResponse } from '../common/openapi';
import {
  CHATWOOT_WEBHOOK_EXAMPLE,
  ERROR_EXAMPLES,
  EXAMPLE_IDS,
  JIVO_BOT_WEBHOOK_EXAMPLE,
  JIVO_ENRICHED_REPLY_EXAMPLE,
  JIVO_WEBHOOK_EXAMPLE,
} from '../common/openapi-examples';

function header(name: string, description: string, example: string) {
  return {
    name,
    in: 'header' as const,
    required: false,
    description,
    schema: { type: 'string', example },
  };
}

/** The inbound webhook route in OpenAPI: a plain Fastify route, so described here by hand. */
export const webhookRouteOpenApi = (): PathsObject => ({
  '/webhooks/{kind}/{token}': {
    post: {
      operationId: 'receiveWebhook',
      tags: ['webhooks'],
      summary: 'Receive a webhook from a source',
      description:
        'The URL a user pastes into Jivo or Chatwoot (the `url` of a source). No admin key: the ' +
        'token identifies the source. The body is parsed as JSON whatever the Content-Type and ' +
        'must be an object. A 200 means the event is durably queued; a webhook repeated within ' +
        'the dedupe window, or a signed request sent again as it is, gets the first answer and ' +
        'is not routed again. Unknown event names ' +
        'are accepted and routed as `source.unknown`.',
      parameters: [
        {
          name: 'kind',
          in: 'path',
          required: true,
          description: 'The source kind: `jivo`, `jivo-bot`, `chatwoot` (GET /api/sources/kinds)',
          schema: { type: 'string', example: 'jivo' },
        },
        {
          name: 'token',
          in: 'path',
          required: true,
          description: "The source's secret token, as in its `url`",
          schema: { type: 'string', example: 'pjJch7L-Ev4tPAhKQ13FsiJLsxDp5LLP' },
        },
        header(
          'X-Chatwoot-Signature',
          'Chatwoot sources with a signing secret: `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw ' +
            'body>">`. A rebranded fork uses its own prefix (the source\'s `signatureHeaderPrefix`).',
          'sha256=5d1c4a0f3e9b7c2a8f6e4d1b0c9a7e5f3d2b1a0c9e8f7d6c5b4a3f2e1d0c9b8a',
        ),
        header(
          'X-Chatwoot-Timestamp',
          'Chatwoot: Unix seconds of the signature; accepted within 5 minutes',
          '1776348340',
        ),
        header(
          'X-Chatwoot-Delivery',
          'Chatwoot: the delivery id, used to answer retries as the first',
          '2f6a3c9e-8b1d-4e7a-9c52-7d4e1b0a6f38',
        ),
      ],
      requestBody: {
        required: true,
        description: 'The payload exactly as the source sends it (any JSON object)',
        content: {
          'application/json': {
            schema: { type: 'object', additionalProperties: true },
            examples: {
              jivo: { summary: 'Jivo Webhooks API: chat_accepted', value: JIVO_WEBHOOK_EXAMPLE },
              chatwoot: { summary: 'Chatwoot: message_created', value: CHATWOOT_WEBHOOK_EXAMPLE },
              jivoBot: { summary: 'Jivo Bot API: CLIENT_MESSAGE', value: JIVO_BOT_WEBHOOK_EXAMPLE },
            },
          },
        },
      },
      responses: {
        200: {
          description:
            'Queued. Jivo (`jivo`) gets `{"result":"ok"}`, with the enrichment fields where the ' +
            'source has an enrichment URL (docs/jivo-enrichment.md); other kinds get ' +
            '`{"status":"accepted","eventId"}`.',
          content: {
            'application/json': {
              schema: {
                oneOf: [
                  {
                    type: 'object',
                    title: 'Jivo',
                    required: ['result'],
                    properties: {
                      result: { type: 'string', enum: ['ok'] },
                      contact_info: { type: 'object', additionalProperties: { type: 'string' } },
                      custom_data: { type: 'array', items: { type: 'object' } },
                      crm_link: { type: 'string', format: 'uri' },
                      enable_assign: { type: 'boolean' },
                    },
                  },
                  {
                    type: 'object',
                    title: 'Accepted',
                    required: ['status', 'eventId'],
                    properties: {
                      status: { type: 'string', enum: ['accepted'] },
                      eventId: { type: 'string', example: EXAMPLE_IDS.event },
                    },
                  },
                ],
              },
              examples: {
                jivo: { summary: 'Jivo', value: { result: 'ok' } },
                jivoEnriched: {
                  summary: 'Jivo, enriched from the CRM',
                  value: JIVO_ENRICHED_REPLY_EXAMPLE,
                },
                accepted: {
                  summary: 'Chatwoot, Jivo Bot API',
                  value: { status: 'accepted', eventId: EXAMPLE_IDS.event },
                },
              },
            },
          },
        },
        400: errorResponse(
          'The body is not JSON, or not a JSON object',
          ERROR_EXAMPLES.invalidJson,
          ERROR_EXAMPLES.invalidBody,
        ),
        401: errorResponse(
          'The sender failed verification: Chatwoot signature missing, wrong or too old; Jivo ' +
            'widget_id not on the allow-list',
          ERROR_EXAMPLES.signatureInvalid,
          ERROR_EXAMPLES.widgetNotAllowed,
        ),
        404: errorResponse(
          'Unknown kind or token (the same answer for both)',
          ERROR_EXAMPLES.unknownWebhookEndpoint,
        ),
        413: errorResponse(
          'The body is over INGEST_BODY_LIMIT_BYTES (1 MiB by default)',
          ERROR_EXAMPLES.payloadTooLarge,
        ),
        503: queueUnavailableResponse(
          'The event could not be queued (Redis unreachable): it was not stored; retry after ' +
            '`Retry-After` seconds',
        ),
      },
    },
  },
});
