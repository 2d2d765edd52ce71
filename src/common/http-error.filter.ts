import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { AppError } from './app-error';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
  errorId?: string;
}

/** Fastify's own errors (body parsing, limits) carry a code and status we translate. */
const FASTIFY_CODES: Record<string, { error: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { error: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { error: 'unsupported_media_type' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { error: 'invalid_json', message: 'Body is empty' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { error: 'invalid_body' },
};

/** Turns any error into `{statusCode, error, message, details?}`; unknown errors get a logged id. */
export function toErrorBody(exception: unknown, logger: Logger): ErrorBody {
  if (exception instanceof AppError) {
    return {
      statusCode: exception.status,
      error: exception.code,
      message: exception.message,
      ...(exception.details === undefined ? {} : { details: exception.details }),
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? (response as { message: unknown }).message
        : exception.message;
    return {
      statusCode: status,
      error: httpErrorCode(status),
      message: Array.isArray(message) ? message.join('; ') : String(message),
    };
  }
  const fastifyError = exception as { code?: string; statusCode?: number; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode < 500) {
    const known = fastifyError.code ? FASTIFY_CODES[fastifyError.code] : undefined;
    return {
      statusCode: fastifyError.statusCode,
      error: known?.error ?? httpErrorCode(fastifyError.statusCode),
      message: known?.message ?? fastifyError.message ?? 'Bad request',
    };
  }
  const errorId = randomUUID();
  logger.error(`Unhandled error ${errorId}: ${(exception as Error)?.stack ?? String(exception)}`);
  return {
    statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
    error: 'internal',
    message: 'Internal error',
    errorId,
  };
}

function httpErrorCode(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'too_many_requests';
    case 503:
      return 'unavailable';
    default:
      return status >= 500 ? 'internal' : 'bad_request';
  }
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger(HttpErrorFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = toErrorBody(exception, this.logger);
    if (exception instanceof AppError && exception.code === 'queue_unavailable') {
      void reply.header('retry-after', '5');
    }
    void reply.status(body.statusCode).send(body);
  }
}
