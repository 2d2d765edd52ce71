import { Injectable } from '@nestjs/common';
import { request } from 'undici';

export const RESPONSE_EXCERPT_BYTES = 1024;

export interface AttemptOutcome {
  succeeded: boolean;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseExcerpt: string | null;
  /** Whether trying again can help (network errors, timeouts, 5xx, 429…). */
  retryable: boolean;
}

export interface OutboundRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** How much of the response body to keep (default 1 KiB). */
  responseLimitBytes?: number;
}

/** POSTs one delivery attempt. Never throws: every outcome comes back as data to record. */
@Injectable()
export class HttpSender {
  async send(outbound: OutboundRequest): Promise<AttemptOutcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await request(outbound.url, {
        method: 'POST',
        body: outbound.body,
        headers: {
          ...outbound.headers,
          'content-type': 'application/json',
          'user-agent': 'webhook-router/0.1',
        },
        signal: AbortSignal.timeout(outbound.timeoutMs),
        headersTimeout: outbound.timeoutMs,
        bodyTimeout: outbound.timeoutMs,
      });
      const excerpt = await readExcerpt(
        response.body,
        outbound.responseLimitBytes ?? RESPONSE_EXCERPT_BYTES,
      );
      const statusCode = response.statusCode;
      const succeeded = statusCode >= 200 && statusCode < 300;
      return {
        succeeded,
        statusCode,
        durationMs: elapsed(),
        error: succeeded ? null : `HTTP ${statusCode}`,
        responseExcerpt: excerpt,
        retryable: !succeeded,
      };
    } catch (error) {
      return {
        succeeded: false,
        statusCode: null,
        durationMs: elapsed(),
        error: describeNetworkError(error, outbound.timeoutMs),
        responseExcerpt: null,
        retryable: true,
      };
    }
  }
}

async function readExcerpt(
  body: AsyncIterable<Buffer> & { destroy(): void },
  limit: number,
): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  if (size === 0) return null;
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

function describeNetworkError(error: unknown, timeoutMs: number): string {
  const name = (error as Error)?.name;
  const code = (error as { code?: string })?.code;
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return `timed out after ${timeoutMs} ms`;
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return [code ?? cause?.code, (error as Error)?.message ?? String(error)]
    .filter(Boolean)
    .join(': ');
}
