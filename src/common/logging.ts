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

/**
 * `/webhooks/<kind>/<token>` with the token (the source's only credential) masked, also in
 * absolute form (`http://host/webhooks/…`) and with doubled slashes or other letter cases.
 */
export function maskUrl(url: string): string {
  return url.replace(
    /^((?:[a-z][a-z\d+.-]*:\/\/[^/?#]*)?\/+webhooks\/+[^/?#]+\/+)[^/?#]+/i,
    '$1[token]',
  );
}

/**
 * The URL of a request's log line. When the router matched a route ending in `:token`, that
 * last path segment is masked however the target spelled it (`/%77ebhooks/…`); else maskUrl.
 */
export function loggedUrl(url: string, matchedRoute: string | undefined): string {
  if (!matchedRoute?.endsWith('/:token')) return maskUrl(url);
  const pathEnd = url.search(/[?#]|$/);
  const tokenStart = url.lastIndexOf('/', pathEnd - 1) + 1;
  return `${url.slice(0, tokenStart)}[token]${url.slice(pathEnd)}`;
}

export interface Loggers {
  /** Nest's Logger and everything the application logs: secret fields redacted. */
  app: Logger;
  /**
   * For the lines written per request (Fastify's, RequestLogLines) and per delivery attempt,
   * whose fields are fixed and hold no secret, so not redacted.
   */
  lines: Logger;
}

/** Injection token of Loggers.lines. */
export const LINE_LOGGER = Symbol('LINE_LOGGER');

/**
 * The process's pino loggers: JSON lines at LOG_LEVEL with pid and role, into one destination.
 * Redaction walks every logged object, so it is left off the per-request and per-attempt
 * lines, which are built field by field. `destination` is for tests.
 */
export function createLoggers(settings: Settings, destination?: DestinationStream): Loggers {
  const stream = destination ?? logDestination();
  const options = {
    level: settings.LOG_LEVEL,
    base: { pid: process.pid, role: settings.APP_ROLE },
  };
  return {
    app: pino({ ...options, redact: { paths: REDACTED_PATHS, censor: '[Redacted]' } }, stream),
    lines: pino(options, stream),
  };
}

/** Bytes of lines gathered before a write, and the longest a line waits for one. */
const LOG_WRITE_BYTES = 4096;
export const LOG_FLUSH_MS = 100;

/**
 * Where the lines go (stdout by default), written asynchronously and gathered: a write, and a
 * wake-up of the thread that makes it, for every ~4 KiB of lines (a dozen delivery attempts or
 * requests) rather than one per line when the lines come one per event-loop turn; a quiet
 * process's lines are written within LOG_FLUSH_MS. pino writes what is left when the process exits.
 */
export function logDestination(dest: string | number = 1): DestinationStream {
  return pino.destination({
    dest,
    sync: false,
    minLength: LOG_WRITE_BYTES,
    periodicFlush: LOG_FLUSH_MS,
  });
}

/**
 * nestjs-pino's options: Nest's Logger writes to the app logger. Its per-request middleware
 * is not mounted (no routes): the request lines come from RequestLogLines.
 */
export function nestLoggerParams(app: Logger): Params {
  return { pinoHttp: { logger: app }, forRoutes: [] };
}

/**
 * Fastify's request logging, as one line per answered request: method, url (token masked),
 * status, responseTime in ms, reqId, and the eventId of an inbound webhook. Nothing when a
 * request arrives. Headers are not logged: they carry
 * signatures and cookies.
 */
export class RequestLogLines extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const statusCode = reply.statusCode;
    const url = loggedUrl(request.url, request.routeOptions?.url);
    const line = {
      reqId: request.id,
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
