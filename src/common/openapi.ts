import { applyDecorators, Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  DocumentBuilder,
  getSchemaPath,
  OpenAPIObject,
  PathsObject,
  ResponseObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Settings } from '../config/settings';
import type { ErrorBody } from './http-error.filter';
import { ERROR_EXAMPLES } from './openapi-examples';

/** The security scheme every `/api/*` operation declares (AdminKeyGuard enforces it). */
export const ADMIN_KEY_SCHEME = 'adminKey';
export const DOCS_PATH = '/docs';
export const DOCS_JSON_PATH = '/docs/json';

/** What a part of the application adds to the document beyond its decorators. */
export interface OpenApiExtension {
  /** Classes described as schemas of their own. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  extraModels: Function[];
  /** Runs on the built document. */
  amend(document: OpenAPIObject): void;
}

/**
 * Publishes the HTTP surface: Swagger UI at /docs, the OpenAPI JSON at /docs/json. Both are
 * plain Fastify routes (no Nest guard runs on them), outside the admin key's /api and /admin.
 * Call before the application is initialised: the UI's assets are a Fastify plugin.
 * `fastifyRoutes` describes the routes mounted on Fastify directly, which Nest cannot see.
 */
export function setupOpenApi(
  app: NestFastifyApplication,
  settings: Settings,
  fastifyRoutes: PathsObject,
  extensions: OpenApiExtension[] = [],
): void {
  const builder = new DocumentBuilder()
    .setTitle('webhook-router')
    .setDescription(description(settings))
    .setVersion(packageVersion())
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'admin key',
        description: 'One of ADMIN_API_KEYS. Required on every /api/* and /admin/* route.',
      },
      ADMIN_KEY_SCHEME,
    )
    .addTag('webhooks', 'Inbound: the URLs pasted into Jivo and Chatwoot')
    .addTag('sources', 'Inbound endpoints: one per Jivo channel set or Chatwoot account/inbox')
    .addTag('subscriptions', 'Outbound: where canonical events are delivered')
    .addTag('events', 'Stored events: canonical form beside the raw payload')
    .addTag('deliveries', 'Delivery attempts to subscribers, retries')
    .addTag('actions', 'Answering back: messages, handoffs, status… on a conversation')
    .addTag('api keys', 'Keys scoped to the action API, for bots')
    .addTag('operations', 'Health probes, Prometheus metrics, queue depths');
  if (settings.PUBLIC_BASE_URL) builder.addServer(settings.publicBaseUrl);

  // Built at boot rather than on first request, so a broken decorator stops the start.
  const document = SwaggerModule.createDocument(app, builder.build(), {
    extraModels: [
      ErrorResponse,
      FieldProblem,
      ...extensions.flatMap((extension) => extension.extraModels),
    ],
  });
  document.paths = { ...fastifyRoutes, ...document.paths };
  extensions.forEach((extension) => extension.amend(document));
  SwaggerModule.setup(DOCS_PATH, app, document, {
    jsonDocumentUrl: DOCS_JSON_PATH,
    raw: ['json'],
    customSiteTitle: 'webhook-router API',
  });
}

function description(settings: Settings): string {
  const limitKiB = Math.floor(settings.INGEST_BODY_LIMIT_BYTES / 1024);
  return [
    'Receives webhooks from Jivo and Chatwoot, turns each into a canonical conversation event and',
    'delivers it, signed with Standard Webhooks, to the subscribed endpoints.',
    '',
    '- `/webhooks/{kind}/{token}` is public: the secret token in the URL identifies the source.',
    '- Every `/api/*` route needs `Authorization: Bearer <admin key>`.',
    `- Request bodies are limited to ${limitKiB} KiB.`,
    '- Errors, on every route: `{"statusCode", "error": "<code>", "message", "details"?}`;',
    '  `details` names each failing field (`[{"field", "problems"}]`).',
  ].join('\n');
}

function packageVersion(): string {
  try {
    const path = join(__dirname, '..', '..', 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export class FieldProblem {
  @ApiProperty({ example: 'retryPolicy.maxAttempts', description: 'Dotted path of the field' })
  field: string;

  @ApiProperty({ type: [String], example: ['maxAttempts must not be greater than 100'] })
  problems: string[];
}

/** The body of every error answer (HttpErrorFilter). */
export class ErrorResponse {
  @ApiProperty({ example: 400 })
  statusCode: number;

  @ApiProperty({
    example: 'validation_failed',
    description:
      'invalid_json, invalid_body, validation_failed, unauthorized, signature_invalid, ' +
      'forbidden, not_found, conflict, payload_too_large, unprocessable, queue_unavailable, ' +
      'internal',
  })
  error: string;

  @ApiProperty({ example: 'Invalid fields: name' })
  message: string;

  @ApiPropertyOptional({
    oneOf: [
      { type: 'array', items: { $ref: getSchemaPath(FieldProblem) } },
      { type: 'object', additionalProperties: true },
    ],
    description:
      'With validation_failed: the bad fields. With an action refused (409, 422): what the ' +
      'caller can use, e.g. `{sourceKind, capabilities}`',
  })
  details?: FieldProblem[] | Record<string, unknown>;

  @ApiPropertyOptional({
    example: '6f1c2a9e-2b7d-4c8e-9a41-0d3f5b7e8c21',
    description: 'With internal (500): the id the error was logged under',
  })
  errorId?: string;
}

/**
 * An error answer with its examples, e.g.
 * `@ApiErrorResponse(404, 'No source with this id', ERROR_EXAMPLES.notFound)`. Several on one
 * status merge (descriptions joined, examples kept), so shared ones compose with local ones.
 */
export function ApiErrorResponse(status: number, description: string, ...examples: ErrorBody[]) {
  return ApiResponse({
    status,
    description,
    type: ErrorResponse,
    examples: namedExamples(examples),
  });
}

const RETRY_AFTER_HEADER = {
  'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer', example: 5 } },
};

/** 503 `queue_unavailable` with its `Retry-After`: the event was not stored. */
export function ApiQueueUnavailableResponse(description = 'Nothing was stored; retry later') {
  return ApiResponse({
    status: 503,
    description,
    type: ErrorResponse,
    examples: namedExamples([ERROR_EXAMPLES.queueUnavailable]),
    headers: RETRY_AFTER_HEADER,
  });
}

/** ApiErrorResponse as a plain OpenAPI response, for routes Nest does not know. */
export function errorResponse(description: string, ...examples: ErrorBody[]): ResponseObject {
  return {
    description,
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(ErrorResponse) },
        examples: namedExamples(examples),
      },
    },
  };
}

/** ApiQueueUnavailableResponse as a plain OpenAPI response. */
export function queueUnavailableResponse(description: string): ResponseObject {
  return {
    ...errorResponse(description, ERROR_EXAMPLES.queueUnavailable),
    headers: RETRY_AFTER_HEADER,
  };
}

function namedExamples(examples: ErrorBody[]) {
  return Object.fromEntries(
    examples.map((example, index) => [
      examples.findIndex((other) => other.error === example.error) === index
        ? example.error
        : `${example.error}_${index}`,
      { summary: example.message, value: example },
    ]),
  );
}

/** On an admin controller: the bearer security and its 401. */
export function ApiAdminAuth() {
  return applyDecorators(
    ApiBearerAuth(ADMIN_KEY_SCHEME),
    ApiErrorResponse(
      401,
      'Missing or wrong admin key',
      ERROR_EXAMPLES.missingAdminKey,
      ERROR_EXAMPLES.invalidAdminKey,
    ),
  );
}

/** A list answer `{data: Model[], nextCursor}`, the shape every list route pages with. */
export function ApiPageResponse(
  model: Type<unknown>,
  options: { description?: string; example: { data: unknown[]; nextCursor: string | null } },
) {
  return applyDecorators(
    ApiExtraModels(model),
    ApiOkResponse({
      description: options.description ?? 'One page, newest first',
      schema: {
        type: 'object',
        required: ['data', 'nextCursor'],
        properties: {
          data: { type: 'array', items: { $ref: getSchemaPath(model) } },
          nextCursor: {
            type: 'string',
            nullable: true,
            description: 'Pass as `cursor` for the next page; null on the last page',
          },
        },
      },
      example: options.example,
    }),
  );
}
