import { FastifyBaseLogger, FastifyReply, FastifyRequest, LogController } from 'fastify';
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

/** Loggers whose request lines RequestLogLines writes as one string (markRequestLogger). */
const STRING_LINE_LOGGERS = new WeakSet<object>();

/**
 * Fastify's logger made from Loggers.lines (`fastify.log`, which the server hands every request
 * when its childLoggerFactory returns the logger itself): its answered-request lines are then
 * built as one string and written straight to the stream, as pino would have written them.
 */
export function markRequestLogger(logger: FastifyBaseLogger): void {
  STRING_LINE_LOGGERS.add(logger);
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
    if (!error && statusCode < 500 && STRING_LINE_LOGGERS.has(request.log)) {
      writeInfoLine(request.log as unknown as Logger, request, statusCode, url, reply.elapsedTime);
      return;
    }
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

const { chindingsSym, streamSym, timeSym } = pino.symbols;

/**
 * The info line of an answered request, as Fastify's logger writes the object RequestLogLines
 * logs (same keys, same order, eventId left out when unset), built as one string instead of an
 * object pino then serializes: this runs once per request on the ingest path. Fastify's `req`
 * serializer keeps only the method and url of that object (it reads `remoteAddress` from `ip`,
 * which the object has not), its `res` serializer the status code.
 */
function writeInfoLine(
  log: Logger,
  request: FastifyRequest,
  statusCode: number,
  url: string,
  elapsedMs: number,
): void {
  if (!log.isLevelEnabled('info')) return;
  const internals = log as unknown as Record<symbol, unknown>;
  const stream = internals[streamSym] as DestinationStream;
  const time = (internals[timeSym] as () => string)();
  const bindings = internals[chindingsSym] as string;
  const quotedUrl = JSON.stringify(url);
  const eventId =
    request.eventId === undefined ? '' : `,"eventId":${JSON.stringify(request.eventId)}`;
  stream.write(
    `{"level":${log.levels.values.info}${time}${bindings}` +
      `,"reqId":${JSON.stringify(request.id)}` +
      `,"req":{"method":${JSON.stringify(request.method)},"url":${quotedUrl}}` +
      `,"res":{"statusCode":${statusCode}},"responseTime":${Math.round(elapsedMs * 100) / 100}${eventId}` +
      `,"msg":${JSON.stringify(`${request.method} ${url} ${statusCode}`)}}\n`,
  );
}
