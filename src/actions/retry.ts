import { AttemptOutcome } from '../outbound/http-sender';

export interface ActionRetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

/**
 * Status codes another attempt may fix: the platform is overloaded (429), timed out (408), or
 * failed on its side (5xx). Any other 4xx (401 bad token, 404 no such conversation, 422 a body
 * the platform refuses) fails the same every time.
 */
export function retryableStatus(statusCode: number): boolean {
  return statusCode === 408 || statusCode === 425 || statusCode === 429 || statusCode >= 500;
}

/**
 * After a failed call: wait this long and try again, or null when the action has failed. The
 * wait doubles from `baseMs`; a longer `Retry-After` is honoured, both capped at `maxMs`.
 */
export function afterFailedCall(
  outcome: AttemptOutcome,
  attempts: number,
  policy: ActionRetryPolicy,
): { delayMs: number } | null {
  const retryable =
    outcome.retryable && (outcome.statusCode === null || retryableStatus(outcome.statusCode));
  if (!retryable || attempts >= policy.maxAttempts) return null;
  const backoff = policy.baseMs * 2 ** Math.min(attempts - 1, 30);
  return { delayMs: Math.min(Math.max(backoff, outcome.retryAfterMs ?? 0), policy.maxMs) };
}
