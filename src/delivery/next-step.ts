import { DeliveryStatus } from './delivery.entity';
import { AttemptOutcome } from '../outbound/http-sender';
import { RetryPolicy, retryDelayMs } from '../policies/retry-policy';

/** What follows an attempt, or the decision not to make one. */
export type NextStep =
  | { kind: 'done' }
  /** No attempt now and none spent: wait for a rate-limit slot, or for a retry's time. */
  | { kind: 'wait'; delayMs: number }
  | { kind: 'retry'; delayMs: number; nextAttemptAt: Date; error: string }
  | { kind: 'dead'; error: string };

/** What follows an attempt that was made. */
export type StepAfterAttempt = Exclude<NextStep, { kind: 'wait' }>;

/** A delivery's state as loaded for a job. */
export interface DeliveryState {
  status: DeliveryStatus;
  run: number;
  attemptCount: number;
  runAttemptBase: number;
  nextAttemptAt: Date | null;
}

export interface JobSituation {
  /** Null: the delivery (or its event) is gone. */
  delivery: DeliveryState | null;
  /** The run the job was queued for. */
  jobRun: number;
  /** From a fan-out job run again: a delivery already failed once only needs its retry job. */
  resuming: boolean;
  subscription: { enabled: boolean; disabledReason: string | null };
  now: Date;
}

export type BeforeAttempt =
  | { kind: 'done' }
  | { kind: 'wait'; delayMs: number }
  /** Its subscription is disabled: end the delivery without an attempt. */
  | { kind: 'abandon'; reason: string }
  | { kind: 'attempt' };

/** What came of trying to make an attempt. */
export type AttemptResult =
  { kind: 'rate-limited'; retryInMs: number } | { kind: 'sent'; outcome: AttemptOutcome };

export interface AttemptSituation {
  delivery: Pick<DeliveryState, 'attemptCount' | 'runAttemptBase'>;
  result: AttemptResult;
  policy: RetryPolicy;
  retry: { jitter: number; retryAfterMaxMs: number };
  now: Date;
  random?: () => number;
}

const DONE = { kind: 'done' } as const;

/** Whether a job should make an attempt, before any is made (and before a rate slot is taken). */
export function beforeAttempt({
  delivery,
  jobRun,
  resuming,
  subscription,
  now,
}: JobSituation): BeforeAttempt {
  // Deleted since, re-driven as a newer run, or already finished by a duplicate job.
  if (!delivery || delivery.run !== jobRun) return DONE;
  if (delivery.status === 'succeeded' || delivery.status === 'dead') return DONE;
  // Held behind its conversation's head, or blocking it: not this job's to send.
  if (delivery.status === 'held' || delivery.status === 'blocked') return DONE;
  if (resuming && delivery.status === 'failed') {
    return {
      kind: 'wait',
      delayMs: Math.max(0, (delivery.nextAttemptAt?.getTime() ?? 0) - now.getTime()),
    };
  }
  if (!subscription.enabled) {
    const why = subscription.disabledReason ? `: ${subscription.disabledReason}` : '';
    return {
      kind: 'abandon',
      reason: `subscription disabled${why}; retry once it is enabled again`,
    };
  }
  return { kind: 'attempt' };
}

/** The attempt this one is in its run, counting from 1. */
export function attemptInRun(delivery: Pick<DeliveryState, 'attemptCount' | 'runAttemptBase'>) {
  return delivery.attemptCount - delivery.runAttemptBase + 1;
}

/**
 * What follows an attempt: done when it succeeded; dead when no retry can fix it or the run's
 * attempts are spent; else a retry after the policy's delay (which a `Retry-After` can only
 * lengthen). Without a rate-limit slot no attempt was made: wait for one.
 */
export function nextStep(
  situation: AttemptSituation & { result: { kind: 'sent' } },
): StepAfterAttempt;
export function nextStep(situation: AttemptSituation): NextStep;
export function nextStep({
  delivery,
  result,
  policy,
  retry,
  now,
  random,
}: AttemptSituation): NextStep {
  if (result.kind === 'rate-limited') return { kind: 'wait', delayMs: result.retryInMs };
  const { outcome } = result;
  if (outcome.succeeded) return DONE;
  const error = outcome.error ?? 'delivery failed';
  const attempt = attemptInRun(delivery);
  if (!outcome.retryable || attempt >= policy.maxAttempts) return { kind: 'dead', error };
  const delayMs = retryDelayMs(
    policy,
    attempt,
    { ...retry, retryAfterMs: outcome.retryAfterMs },
    random,
  );
  return { kind: 'retry', delayMs, nextAttemptAt: new Date(now.getTime() + delayMs), error };
}
