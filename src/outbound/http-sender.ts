import { Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import { Agent, Dispatcher } from 'undici';
import { Settings } from '../config/settings';
import { checkTargetUrl, guardedLookup } from './target-guard';

export const RESPONSE_EXCERPT_BYTES = 1024;
const LOCATION_IN_ERROR_CHARS = 300;

export interface AttemptOutcome {
  succeeded: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
  /** Whether trying again can help (network errors, timeouts, 5xx, 429…). */
  retryable: boolean;
  /** What the target asked for with `Retry-After` on a 429 or 503, in ms; else null. */
  retryAfterMs: number | null;
  /** The target answered 410 Gone: it wants no more deliveries. */
  gone: boolean;
}

export interface OutboundRequest {
  url: string;
  /** The body, or its UTF-8 bytes (sent as they are). */
  body: string | Buffer;
  headers: Record<string, string>;
  /** Covers the whole attempt: connect, response headers and reading the response body. */
  timeoutMs: number;
  /**
   * Whether private and reserved addresses may be reached. When left out, the configured
   * ALLOW_PRIVATE_TARGETS applies (false without settings).
   */
  allowPrivateTargets?: boolean;
  /** How much of the response body to keep (default 1 KiB). */
  responseLimitBytes?: number;
}

/**
 * POSTs one delivery attempt. Never throws: every outcome comes back as data to record.
 * Redirects are never followed. Without private targets, every address connected to must be
 * public, checked by the connection's own DNS lookup (no gap for DNS rebinding).
 */
@Injectable()
export class HttpSender implements OnModuleDestroy {
  private readonly guardedAgent = new Agent({ connect: { lookup: guardedLookup } });
  private readonly openAgent = new Agent();

  constructor(@Optional() private readonly settings?: Settings) {}

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.guardedAgent.close(), this.openAgent.close()]);
  }

  async send(outbound: OutboundRequest): Promise<AttemptOutcome> {
    const started = performance.now();
    const allowPrivate =
      outbound.allowPrivateTargets ?? this.settings?.ALLOW_PRIVATE_TARGETS ?? false;

    // IP literals never reach the guarded lookup; host names are checked as they connect.
    const target = targetOf(outbound.url, allowPrivate);
    if (!target.ok) {
      return failure(
        Math.round(performance.now() - started),
        `target refused: ${target.reason}`,
        false,
      );
    }
    const headers: Record<string, string> = Object.assign({}, outbound.headers);
    headers['content-type'] = 'application/json';
    headers['user-agent'] = USER_AGENT;
    return new Promise<AttemptOutcome>((resolve) => {
      const exchange = new AttemptExchange(outbound, started, resolve);
      try {
        (allowPrivate ? this.openAgent : this.guardedAgent).dispatch(
          {
            origin: target.origin,
            path: target.path,
            method: 'POST',
            body: outbound.body,
            headers,
          },
          exchange,
        );
      } catch (error) {
        exchange.onResponseError(null, error as Error);
      }
    });
  }
}

const USER_AGENT = 'webhook-router/0.1';

type Target = { ok: true; origin: string; path: string } | { ok: false; reason: string };

/** Targets checked lately, by URL and whether private ones may be reached (no DNS involved). */
const TARGETS = [new Map<string, Target>(), new Map<string, Target>()];
const TARGETS_KEPT = 1000;

/** Where to send: the URL's origin and path, or why it is refused (`checkTargetUrl`). */
function targetOf(rawUrl: string, allowPrivate: boolean): Target {
  const known = TARGETS[allowPrivate ? 1 : 0];
  let target = known.get(rawUrl);
  if (target) return target;
  const check = checkTargetUrl(rawUrl, allowPrivate);
  if (check.ok) {
    const url = new URL(rawUrl);
    target = { ok: true, origin: url.origin, path: `${url.pathname}${url.search}` };
  } else {
    target = check;
  }
  if (known.size >= TARGETS_KEPT) known.clear();
  known.set(rawUrl, target);
  return target;
}

/**
 * One attempt's exchange, on undici's dispatch API: the response's status, headers and the first
 * bytes of its body, without the stream and async iterator `request()` makes for every response.
 * Settles once: on the end of the body, at the excerpt's limit (dropping the connection rather
 * than reading the rest), on an error, or when the attempt's timeout fires (which aborts it).
 */
class AttemptExchange implements Dispatcher.DispatchHandler {
  private readonly limit: number;
  private readonly timer: NodeJS.Timeout;
  private controller: Dispatcher.DispatchController | null = null;
  private statusCode = 0;
  private headers: ResponseHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private settled = false;
  private timedOut = false;

  constructor(
    private readonly outbound: OutboundRequest,
    private readonly started: number,
    private readonly resolve: (outcome: AttemptOutcome) => void,
  ) {
    this.limit = outbound.responseLimitBytes ?? RESPONSE_EXCERPT_BYTES;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.settle(failure(this.elapsed(), `timed out after ${outbound.timeoutMs} ms`, true));
      this.controller?.abort(new Error(`timed out after ${outbound.timeoutMs} ms`));
    }, outbound.timeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Timed out while waiting for a connection: never sent.
    if (this.timedOut) controller.abort(new Error(`timed out after ${this.outbound.timeoutMs} ms`));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: ResponseHeaders,
  ): void {
    this.statusCode = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size >= this.limit) {
      this.settle(this.judged());
      controller.abort(new Error('response excerpt complete'));
    }
  }

  onResponseEnd(): void {
    this.settle(this.judged());
  }

  onResponseError(_controller: Dispatcher.DispatchController | null, error: Error): void {
    if (this.settled) return;
    const refused = findTargetRefusal(error);
    if (refused) return this.settle(failure(this.elapsed(), `target refused: ${refused}`, false));
    this.settle(failure(this.elapsed(), describeNetworkError(error), true));
  }

  private judged(): AttemptOutcome {
    // Postgres text cannot hold NUL: the excerpt is recorded with the attempt.
    const excerpt =
      this.size === 0
        ? null
        : (this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks))
            .subarray(0, this.limit)
            .toString('utf8')
            .replaceAll('\u0000', '\uFFFD');
    return judgeResponse(this.outbound.url, this.statusCode, this.headers, excerpt, this.elapsed());
  }

  private settle(outcome: AttemptOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.chunks = [];
    this.resolve(outcome);
  }

  private elapsed(): number {
    return Math.round(performance.now() - this.started);
  }
}

type ResponseHeaders = Record<string, string | string[] | undefined>;

function judgeResponse(
  url: string,
  statusCode: number,
  headers: ResponseHeaders,
  responseExcerpt: string | null,
  durationMs: number,
): AttemptOutcome {
  const outcome: AttemptOutcome = {
    statusCode,
    durationMs,
    responseExcerpt,
    retryAfterMs: null,
    gone: false,
    succeeded: false,
    error: null,
    retryable: false,
  };
  if (statusCode >= 200 && statusCode < 300) {
    outcome.succeeded = true;
  } else if (statusCode >= 300 && statusCode < 400) {
    // A redirect is a configuration problem: the subscription should name the final URL.
    const location = first(headers.location);
    const target = location ? ` redirect to ${resolveLocation(location, url)}` : '';
    outcome.error = `HTTP ${statusCode}${target} (redirects are not followed)`;
  } else if (statusCode === 410) {
    outcome.error = 'HTTP 410';
    outcome.gone = true;
  } else {
    outcome.error = `HTTP ${statusCode}`;
    outcome.retryable = true;
    if (statusCode === 429 || statusCode === 503) {
      outcome.retryAfterMs = parseRetryAfter(headers['retry-after']);
    }
  }
  return outcome;
}

/** An attempt that got no HTTP answer (or was never sent). */
export function failure(durationMs: number, error: string, retryable: boolean): AttemptOutcome {
  return {
    succeeded: false,
    statusCode: null,
    durationMs,
    error,
    responseExcerpt: null,
    retryable,
    retryAfterMs: null,
    gone: false,
  };
}

/**
 * A `Retry-After` value in ms from now: delta-seconds or an HTTP-date. Null when absent,
 * unreadable, negative, or a date that is not in the future.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now = Date.now(),
): number | null {
  const raw = first(value)?.trim();
  if (!raw) return null;
  if (/^\d+$/.test(raw)) {
    const seconds = Number(raw);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : null;
  }
  // HTTP-dates (IMF-fixdate, RFC 850, asctime) all start with a day name; asctime has no zone
  // but means GMT, which Date.parse would not assume.
  if (!/^[a-z]{3}/i.test(raw)) return null;
  const at = Date.parse(/\d{4}$/.test(raw) ? `${raw} GMT` : raw);
  if (!Number.isFinite(at) || at <= now) return null;
  return at - now;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Where a redirect points, without the credentials a relative one inherits from `base`. */
function resolveLocation(location: string, base: string): string {
  let resolved: string;
  try {
    const url = new URL(location, base);
    url.username = '';
    url.password = '';
    resolved = url.href;
  } catch {
    resolved = location;
  }
  return resolved.length > LOCATION_IN_ERROR_CHARS
    ? `${resolved.slice(0, LOCATION_IN_ERROR_CHARS)}…`
    : resolved;
}

function findTargetRefusal(error: unknown): string | null {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if ((current as { code?: string }).code === 'ERR_TARGET_REFUSED') {
      return (current as Error).message;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

function describeNetworkError(error: unknown): string {
  const code = (error as { code?: string })?.code;
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return [code ?? cause?.code, (error as Error)?.message ?? String(error)]
    .filter(Boolean)
    .join(': ');
}
