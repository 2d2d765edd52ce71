import { failure } from '../outbound/http-sender';
import { afterFailedCall, retryableStatus } from './retry';

const policy = { maxAttempts: 5, baseMs: 1000, maxMs: 60_000 };
const answered = (statusCode: number, retryAfterMs: number | null = null) => ({
  ...failure(10, `HTTP ${statusCode}`, true),
  statusCode,
  retryAfterMs,
});

describe('afterFailedCall', () => {
  it('retries 408, 429 and 5xx, and network errors', () => {
    for (const status of [408, 429, 500, 502, 503]) expect(retryableStatus(status)).toBe(true);
    expect(afterFailedCall(failure(5, 'ECONNREFUSED', true), 1, policy)).toEqual({ delayMs: 1000 });
  });

  it('fails at once on a 4xx no retry can fix, and on a refused target', () => {
    for (const status of [400, 401, 403, 404, 410, 422]) {
      expect(afterFailedCall(answered(status), 1, policy)).toBeNull();
    }
    expect(afterFailedCall(failure(1, 'target refused: private', false), 1, policy)).toBeNull();
  });

  it('doubles the wait, honours a longer Retry-After, caps both', () => {
    expect(afterFailedCall(answered(500), 3, policy)).toEqual({ delayMs: 4000 });
    expect(afterFailedCall(answered(429, 30_000), 1, policy)).toEqual({ delayMs: 30_000 });
    expect(afterFailedCall(answered(429, 3_600_000), 1, policy)).toEqual({ delayMs: 60_000 });
    expect(afterFailedCall(answered(500), 4, { ...policy, baseMs: 30_000 })).toEqual({
      delayMs: 60_000,
    });
  });

  it('stops once the attempts are spent', () => {
    expect(afterFailedCall(answered(500), 5, policy)).toBeNull();
  });
});
