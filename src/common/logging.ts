import type { IncomingMessage, ServerResponse } from 'node:http';
import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { Settings } from '../config/settings';

/** Headers that carry credentials or signatures: logged as `[Redacted]`. */
const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|.*-signature|.*-token|.*-secret)$/i;

/** Keys never printed, wherever they sit in a logged object (pino `redact`). */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-chatwoot-signature"]',
  'req.headers["webhook-signature"]',
  'res.headers["set-cookie"]',
  'token',
  'secret',
  'signingSecret',
  '*.token',
  '*.secret',
  '*.signingSecret',
  '*.*.secret',
  '*.*.signingSecret',
];

const EVENT_ID = Symbol('eventId');

/** `/webhooks/<kind>/<token>` with the token (the source's only credential) masked. */
export function maskUrl(url: string | undefined): string | undefined {
  return url?.replace(/^(\/webhooks\/[^/?#]+\/)[^/?#]+/, '$1[token]');
}

export function redactHeaders(
  headers: IncomingMessage['headers'] | undefined,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [
      name,
      SECRET_HEADER.test(name) ? '[Redacted]' : value,
    ]),
  );
}

/** Remembers the event id an ingest answered, for the request's log line. */
export function noteEventId(rawRequest: IncomingMessage, eventId: string | undefined): void {
  if (eventId) (rawRequest as IncomingMessage & { [EVENT_ID]?: string })[EVENT_ID] = eventId;
}

type LoggedRequest = IncomingMessage & { id?: unknown; originalUrl?: string; [EVENT_ID]?: string };

/**
 * nestjs-pino's options: JSON lines at LOG_LEVEL, one line per HTTP request (method, masked url,
 * status, responseTime, eventId), secrets and signatures redacted. `destination` is for tests.
 */
export function loggerParams(settings: Settings, destination?: DestinationStream): Params {
  return {
    pinoHttp: {
      level: settings.LOG_LEVEL,
      ...(destination ? { stream: destination } : {}),
      base: { pid: process.pid, role: settings.APP_ROLE },
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
      autoLogging: true,
      // The serializers below get the raw request and choose every field themselves.
      wrapSerializers: false,
      quietReqLogger: true,
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
      customSuccessMessage: (req, res) =>
        `${req.method} ${maskUrl((req as LoggedRequest).originalUrl ?? req.url)} ${res.statusCode}`,
      customErrorMessage: (req, res) =>
        `${req.method} ${maskUrl((req as LoggedRequest).originalUrl ?? req.url)} ${res.statusCode}`,
      customSuccessObject: (req, _res, value: Record<string, unknown>) => {
        const eventId = (req as LoggedRequest)[EVENT_ID];
        return eventId ? { ...value, eventId } : value;
      },
      serializers: {
        req: (req: LoggedRequest) => ({
          id: req.id,
          method: req.method,
          url: maskUrl(req.originalUrl ?? req.url),
          remoteAddress: req.socket?.remoteAddress,
          headers: redactHeaders(req.headers),
        }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
    },
  };
}

/** Puts the `eventId` of a handler's answer on its request log line. */
@Injectable()
export class LogEventIdInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<{ raw: IncomingMessage }>();
    return next.handle().pipe(
      tap((answer: unknown) => {
        const eventId = (answer as { eventId?: unknown } | null)?.eventId;
        if (typeof eventId === 'string') noteEventId(request.raw, eventId);
      }),
    );
  }
}
