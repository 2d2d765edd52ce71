import { AttemptOutcome } from '../outbound/http-sender';
import {
  AttemptResult,
  beforeAttempt,
  BeforeAttempt,
  DeliveryState,
  JobSituation,
  NextStep,
  nextStep,
} from './next-step';

const NOW = new Date('2026-01-01T12:00:00.000Z');
const inSeconds = (seconds: number) => new Date(NOW.getTime() + seconds * 1000);

const pending: DeliveryState = {
  status: 'pending',
  run: 0,
  attemptCount: 0,
  runAttemptBase: 0,
  nextAttemptAt: null,
};
const failed: DeliveryState = {
  ...pending,
  status: 'failed',
  attemptCount: 1,
  nextAttemptAt: inSeconds(30),
};
const enabled = { enabled: true, disabledReason: null };

describe('beforeAttempt', () => {
  const job = (situation: Partial<JobSituation>): JobSituation => ({
    delivery: pending,
    jobRun: 0,
    resuming: false,
    subscription: enabled,
    now: NOW,
    ...situation,
  });

  it.each<[string, Partial<JobSituation>, BeforeAttempt]>([
    ['a pending delivery of an enabled subscription', {}, { kind: 'attempt' }],
    ['a failed delivery whose retry job runs', { delivery: failed }, { kind: 'attempt' }],
    ['a pending delivery in a fan-out job run again', { resuming: true }, { kind: 'attempt' }],
    ['a delivery gone (or its event)', { delivery: null }, { kind: 'done' }],
    ['a job of an older run', { delivery: { ...pending, run: 2 }, jobRun: 1 }, { kind: 'done' }],
    ['a job of a newer run', { delivery: pending, jobRun: 1 }, { kind: 'done' }],
    ['a succeeded delivery', { delivery: { ...pending, status: 'succeeded' } }, { kind: 'done' }],
    ['a dead delivery', { delivery: { ...pending, status: 'dead' } }, { kind: 'done' }],
    [
      'a delivery held behind its conversation’s head (a stale job)',
      { delivery: { ...pending, status: 'held' } },
      { kind: 'done' },
    ],
    [
      'a blocked head of an ordered conversation',
      { delivery: { ...pending, status: 'blocked' }, subscription: { ...enabled, enabled: false } },
      { kind: 'done' },
    ],
    [
      'a finished delivery of a disabled subscription',
      { delivery: { ...pending, status: 'dead' }, subscription: { ...enabled, enabled: false } },
      { kind: 'done' },
    ],
    [
      'a failed delivery in a fan-out job run again: its retry job, at its time',
      { delivery: failed, resuming: true },
      { kind: 'wait', delayMs: 30_000 },
    ],
    [
      'a failed delivery in a fan-out job run again, its retry overdue',
      { delivery: { ...failed, nextAttemptAt: inSeconds(-5) }, resuming: true },
      { kind: 'wait', delayMs: 0 },
    ],
    [
      'a failed delivery in a fan-out job run again, with no retry time',
      { delivery: { ...failed, nextAttemptAt: null }, resuming: true },
      { kind: 'wait', delayMs: 0 },
    ],
    [
      'a delivery of a subscription disabled by hand',
      { subscription: { enabled: false, disabledReason: null } },
      { kind: 'abandon', reason: 'subscription disabled; retry once it is enabled again' },
    ],
    [
      'a delivery of a subscription the router disabled',
      { subscription: { enabled: false, disabledReason: 'the target answered 410 Gone' } },
      {
        kind: 'abandon',
        reason:
          'subscription disabled: the target answered 410 Gone; retry once it is enabled again',
      },
    ],
  ])('%s', (_case, situation, expected) => {
    expect(beforeAttempt(job(situation))).toEqual(expected);
  });
});

describe('nextStep', () => {
  const outcome = (fields: Partial<AttemptOutcome>): AttemptResult => ({
    kind: 'sent',
    outcome: {
      succeeded: false,
      statusCode: 500,
      durationMs: 12,
      error: 'HTTP 500',
      responseExcerpt: null,
      retryable: true,
      retryAfterMs: null,
      gone: false,
      ...fields,
    },
  });
  const policy = { maxAttempts: 4, scheduleSeconds: [5, 60, 600] };
  const retry = (delayMs: number, error = 'HTTP 500'): NextStep => ({
    kind: 'retry',
    delayMs,
    nextAttemptAt: new Date(NOW.getTime() + delayMs),
    error,
  });

  it.each<
    [string, Pick<DeliveryState, 'attemptCount' | 'runAttemptBase'>, AttemptResult, NextStep]
  >([
    [
      'no rate-limit slot: wait for one, no attempt spent',
      { attemptCount: 3, runAttemptBase: 0 },
      { kind: 'rate-limited', retryInMs: 250 },
      { kind: 'wait', delayMs: 250 },
    ],
    [
      'a success',
      { attemptCount: 0, runAttemptBase: 0 },
      outcome({ succeeded: true, statusCode: 200, error: null, retryable: false }),
      { kind: 'done' },
    ],
    [
      'a success on the last attempt',
      { attemptCount: 3, runAttemptBase: 0 },
      outcome({ succeeded: true, statusCode: 200, error: null, retryable: false }),
      { kind: 'done' },
    ],
    [
      'a first failure: the first wait of the schedule',
      { attemptCount: 0, runAttemptBase: 0 },
      outcome({}),
      retry(5_000),
    ],
    [
      'a third failure: the third wait',
      { attemptCount: 2, runAttemptBase: 0 },
      outcome({}),
      retry(600_000),
    ],
    [
      'a failure counted in its run, after a re-drive',
      { attemptCount: 9, runAttemptBase: 8 },
      outcome({ error: 'timeout', statusCode: null }),
      retry(60_000, 'timeout'),
    ],
    [
      'a Retry-After longer than the schedule',
      { attemptCount: 0, runAttemptBase: 0 },
      outcome({ statusCode: 429, error: 'HTTP 429', retryAfterMs: 90_000 }),
      retry(90_000, 'HTTP 429'),
    ],
    [
      'a Retry-After past its bound',
      { attemptCount: 0, runAttemptBase: 0 },
      outcome({ statusCode: 503, error: 'HTTP 503', retryAfterMs: 7_200_000 }),
      retry(3_600_000, 'HTTP 503'),
    ],
    [
      'a failure on the run’s last attempt',
      { attemptCount: 3, runAttemptBase: 0 },
      outcome({}),
      { kind: 'dead', error: 'HTTP 500' },
    ],
    [
      'a failure past the run’s attempts (the policy shrank meanwhile)',
      { attemptCount: 6, runAttemptBase: 0 },
      outcome({}),
      { kind: 'dead', error: 'HTTP 500' },
    ],
    [
      'a failure no retry can fix',
      { attemptCount: 0, runAttemptBase: 0 },
      outcome({ statusCode: 410, error: 'HTTP 410', retryable: false, gone: true }),
      { kind: 'dead', error: 'HTTP 410' },
    ],
    [
      'a failure with no message',
      { attemptCount: 0, runAttemptBase: 0 },
      outcome({ error: null, retryable: false }),
      { kind: 'dead', error: 'delivery failed' },
    ],
    [
      'a retryable failure with no message',
      { attemptCount: 0, runAttemptBase: 0 },
      outcome({ error: null }),
      retry(5_000, 'delivery failed'),
    ],
  ])('%s', (_case, delivery, result, expected) => {
    expect(
      nextStep({
        delivery,
        result,
        policy,
        retry: { jitter: 0, retryAfterMaxMs: 3_600_000 },
        now: NOW,
      }),
    ).toEqual(expected);
  });

  it.each([
    [0, 4_000],
    [0.5, 5_000],
    [1, 6_000],
  ])('spreads the wait by the jitter (random %p → %p ms)', (random, delayMs) => {
    expect(
      nextStep({
        delivery: { attemptCount: 0, runAttemptBase: 0 },
        result: outcome({}),
        policy,
        retry: { jitter: 0.2, retryAfterMaxMs: 0 },
        now: NOW,
        random: () => random,
      }),
    ).toEqual(retry(delayMs));
  });
});
