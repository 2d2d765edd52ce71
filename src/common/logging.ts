import { FastifyReply, FastifyRequest, LogController } from 'fastify';
import type { Params } from 'nestjs-pino';
import pino, { DestinationStream, Logger } from 'pino';
import { Settings } from '../config/settings';

/** Keys never printed, wherever they sit in a logged object (pino `redact`). */
const REDACTED_PATHS = [
  'token',
  'secret',
  'signingSecret',
  'authorization',
  '*.token',
  '*.secret',
  '*.signingSecret',
  '*.authorization',
  '*.*.secret',
  '*.*.signingSecret',
];

declare module 'fastify' {
  interface FastifyRequest {
    /** The event an inbound webhook was queued as, for the request's log line. */
    eventId?: string;
  }
}

/** `/webhooks/<kind>/<token>` with the token (the source's only credential) masked. */
export function maskUrl(url: string): string {
  return url.replace(/^(\/webhooks\/[^/?#]+\/)[^/?#]+/, '$1[token]');
}

/**
 * The process's one pino logger: JSON lines at LOG_LEVEL with pid and role, secret fields
 * redacted. Fastify logs requests through it and Nest's Logger writes to it (nestjs-pino).
 * Written asynchronously, so a burst of requests costs a few large writes rather than one
 * write each; pino flushes what is buffered when the process exits. `destination` is for tests.
 */
export function createRootLogger(settings: Settings, destination?: DestinationStream): Logger {
  return pino(
    {
      level: settings.LOG_LEVEL,
      base: { pid: process.pid, role: settings.APP_ROLE },
      redact: { paths: REDACTED_PATHS, censor: '[Redacted]' },
    },
    destination ?? pino.destination({ sync: false }),
  );
}

/**
 * nestjs-pino's options: Nest's Logger writes to the root logger. Its per-request middleware
 * is not mounted (no routes): the request lines come from RequestLogLines.
 */
export function nestLoggerParams(root: Logger): Params {
  return { pinoHttp: { logger: root }, forRoutes: [] };
}

/**
 * Fastify's request logging, as one line per answered request: method, url (token masked),
 * status, responseTime in ms, and the eventId of an inbound webhook, on the request's child
 * logger (`reqId`). Nothing when a request arrives. Headers are not logged: they carry
 * signatures and cookies.
 */
export class RequestLogLines extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    const statusCode = reply.statusCode;
    const url = maskUrl(request.url);
    const line = {
      req: { method: request.method, url, remoteAddress: request.ip },
      res: { statusCode },
      responseTime: Math.round(reply.elapsedTime * 100) / 100,
      eventId: request.eventId,
      ...(error ? { err: error } : {}),
    };
    const message = `${request.method} ${url} ${statusCode}`;
    if (error || statusCode >= 500) request.log.error(line, message);
    else request.log.info(line, message);
  }
}
