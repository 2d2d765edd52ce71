/** When a failed attempt is tried again: the subscription's schedule (or the default) with jitter. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Seconds to wait before retry 1, 2, …; the last repeats when maxAttempts asks for more. */
  scheduleSeconds: number[];
}

export function resolveRetryPolicy(
  subscription: { maxAttempts: number | null; retrySchedule: number[] | null },
  defaultScheduleSeconds: number[],
): RetryPolicy {
  const scheduleSeconds = subscription.retrySchedule ?? defaultScheduleSeconds;
  return {
    maxAttempts: subscription.maxAttempts ?? scheduleSeconds.length + 1,
    scheduleSeconds,
  };
}

/**
 * Milliseconds to wait after failed attempt `attemptInRun` (1-based) of a run. The scheduled wait
 * is spread by ±`jitter`; a `Retry-After` from the target (capped at `retryAfterMaxMs`) can only
 * lengthen it.
 */
export function retryDelayMs(
  policy: RetryPolicy,
  attemptInRun: number,
  options: { jitter: number; retryAfterMs?: number | null; retryAfterMaxMs: number },
  random: () => number = Math.random,
): number {
  const { scheduleSeconds } = policy;
  const seconds =
    scheduleSeconds.length === 0
      ? 0
      : scheduleSeconds[Math.min(attemptInRun - 1, scheduleSeconds.length - 1)];
  const spread = 1 + options.jitter * (2 * random() - 1);
  const scheduled = Math.round(seconds * 1000 * spread);
  const requested = Math.min(options.retryAfterMs ?? 0, options.retryAfterMaxMs);
  return Math.max(scheduled, requested);
}
