import { Controller, HttpCode, Param, Post, Req, UseInterceptors } from '@nestjs/common';
import {
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiErrorResponse, ApiQueueUnavailableResponse } from '../common/openapi';
import {
  CHATWOOT_WEBHOOK_EXAMPLE,
  ERROR_EXAMPLES,
  EXAMPLE_IDS,
  JIVO_BOT_WEBHOOK_EXAMPLE,
  JIVO_ENRICHED_REPLY_EXAMPLE,
  JIVO_WEBHOOK_EXAMPLE,
} from '../common/openapi-examples';
import { Public } from '../auth/admin-key.guard';
import { LogEventIdInterceptor } from '../common/logging';
import { MetricsService } from '../monitoring/metrics.service';
import { IngestService } from './ingest.service';

@ApiTags('webhooks')
@Public()
@Controller('webhooks')
export class InboundController {
  constructor(
    private readonly ingest: IngestService,
    private readonly metrics: MetricsService,
  ) {}

  /** The URL a user pastes into Jivo or Chatwoot. */
  @Post(':kind/:token')
  @HttpCode(200)
  @UseInterceptors(LogEventIdInterceptor)
  @ApiOperation({
    summary: 'Receive a webhook from a source',
    description:
      'The URL a user pastes into Jivo or Chatwoot (the `url` of a source). No admin key: the ' +
      'token identifies the source. The body is parsed as JSON whatever the Content-Type and ' +
      'must be an object. A 200 means the event is durably queued; a webhook repeated within ' +
      'the dedupe window gets the first answer and is not routed again. Unknown event names ' +
      'are accepted and routed as `source.unknown`.',
  })
  @ApiParam({
    name: 'kind',
    example: 'jivo',
    description: 'The source kind: `jivo`, `jivo-bot`, `chatwoot` (GET /api/sources/kinds)',
  })
  @ApiParam({
    name: 'token',
    example: 'pjJch7L-Ev4tPAhKQ13FsiJLsxDp5LLP',
    description: "The source's secret token, as in its `url`",
  })
  @ApiHeader({
    name: 'X-Chatwoot-Signature',
    required: false,
    description:
      'Chatwoot sources with a signing secret: `sha256=<hex HMAC-SHA256 of "<timestamp>.<raw ' +
      'body>">`. A rebranded fork uses its own prefix (the source\'s `signatureHeaderPrefix`).',
    example: 'sha256=5d1c4a0f3e9b7c2a8f6e4d1b0c9a7e5f3d2b1a0c9e8f7d6c5b4a3f2e1d0c9b8a',
  })
  @ApiHeader({
    name: 'X-Chatwoot-Timestamp',
    required: false,
    description: 'Chatwoot: Unix seconds of the signature; accepted within 5 minutes',
    example: '1776348340',
  })
  @ApiHeader({
    name: 'X-Chatwoot-Delivery',
    required: false,
    description: 'Chatwoot: the delivery id, used to answer retries as the first',
    example: '2f6a3c9e-8b1d-4e7a-9c52-7d4e1b0a6f38',
  })
  @ApiBody({
    description: 'The payload exactly as the source sends it (any JSON object)',
    schema: { type: 'object', additionalProperties: true },
    examples: {
      jivo: { summary: 'Jivo Webhooks API: chat_accepted', value: JIVO_WEBHOOK_EXAMPLE },
      chatwoot: { summary: 'Chatwoot: message_created', value: CHATWOOT_WEBHOOK_EXAMPLE },
      jivoBot: { summary: 'Jivo Bot API: CLIENT_MESSAGE', value: JIVO_BOT_WEBHOOK_EXAMPLE },
    },
  })
  @ApiOkResponse({
    description:
      'Queued. Jivo (`jivo`) gets `{"result":"ok"}`, with the enrichment fields where the ' +
      'source has an enrichment URL (docs/jivo-enrichment.md); other kinds get ' +
      '`{"status":"accepted","eventId"}`.',
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
      jivoEnriched: { summary: 'Jivo, enriched from the CRM', value: JIVO_ENRICHED_REPLY_EXAMPLE },
      accepted: {
        summary: 'Chatwoot, Jivo Bot API',
        value: { status: 'accepted', eventId: EXAMPLE_IDS.event },
      },
    },
  })
  @ApiErrorResponse(
    400,
    'The body is not JSON, or not a JSON object',
    ERROR_EXAMPLES.invalidJson,
    ERROR_EXAMPLES.invalidBody,
  )
  @ApiErrorResponse(
    401,
    'The sender failed verification: Chatwoot signature missing, wrong or too old; Jivo ' +
      'widget_id not on the allow-list',
    ERROR_EXAMPLES.signatureInvalid,
    ERROR_EXAMPLES.widgetNotAllowed,
  )
  @ApiErrorResponse(
    404,
    'Unknown kind or token (the same answer for both)',
    ERROR_EXAMPLES.unknownWebhookEndpoint,
  )
  @ApiErrorResponse(
    413,
    'The body is over INGEST_BODY_LIMIT_BYTES (1 MiB by default)',
    ERROR_EXAMPLES.payloadTooLarge,
  )
  @ApiQueueUnavailableResponse(
    'The event could not be queued (Redis unreachable): it was not stored; retry after ' +
      '`Retry-After` seconds',
  )
  receive(
    @Param('kind') kind: string,
    @Param('token') token: string,
    @Req() request: FastifyRequest,
  ): Promise<unknown> {
    return this.metrics.measureIngest(kind, () =>
      this.ingest.accept({
        kind,
        token,
        rawBody: request.rawBody,
        body: request.body,
        headers: request.headers,
      }),
    );
  }
}
