import { DEFAULT_RETRY_SCHEDULE_SECONDS } from '../config/settings';
import { resolveRetryPolicy, retryDelayMs } from './retry-policy';

describe('retry policy', () => {
  const noJitter = { jitter: 0, retryAfterMaxMs: 3_600_000 };

  it('defaults to the Svix-like schedule: 8 attempts, the first at once', () => {
    const policy = resolveRetryPolicy(
      { maxAttempts: null, retrySchedule: null },
      DEFAULT_RETRY_SCHEDULE_SECONDS,
    );
    expect(policy.maxAttempts).toBe(8);
    const waits = [1, 2, 3, 4, 5, 6, 7].map((attempt) => retryDelayMs(policy, attempt, noJitter));
    expect(waits).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000));
  });

  it('takes a subscription schedule and repeats its last wait when more attempts are allowed', () => {
    const policy = resolveRetryPolicy({ maxAttempts: 6, retrySchedule: [1, 2] }, [5]);
    expect(policy.maxAttempts).toBe(6);
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(policy, attempt, noJitter))).toEqual([
      1000, 2000, 2000, 2000, 2000,
    ]);
    expect(
      resolveRetryPolicy({ maxAttempts: null, retrySchedule: [1, 2, 3] }, [5]).maxAttempts,
    ).toBe(4);
  });

  it('spreads waits by the jitter fraction', () => {
    const policy = resolveRetryPolicy({ maxAttempts: null, retrySchedule: [10] }, []);
    const options = { jitter: 0.2, retryAfterMaxMs: 0 };
    expect(retryDelayMs(policy, 1, options, () => 0)).toBe(8000);
    expect(retryDelayMs(policy, 1, options, () => 1)).toBe(12000);
    expect(retryDelayMs(policy, 1, options, () => 0.5)).toBe(10000);
  });

  it('honours Retry-After within its bound, never shortening the schedule', () => {
    const policy = resolveRetryPolicy({ maxAttempts: null, retrySchedule: [5] }, []);
    expect(retryDelayMs(policy, 1, { ...noJitter, retryAfterMs: 60_000 })).toBe(60_000);
    expect(retryDelayMs(policy, 1, { ...noJitter, retryAfterMs: 1_000 })).toBe(5_000);
    expect(
      retryDelayMs(policy, 1, { jitter: 0, retryAfterMs: 86_400_000, retryAfterMaxMs: 120_000 }),
    ).toBe(120_000);
  });
});
