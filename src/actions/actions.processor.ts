import { InjectQueue, OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Inject, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, Queue } from 'bullmq';
import type { Logger as PinoLogger } from 'pino';
import { LINE_LOGGER } from '../common/logging';
import { Settings } from '../config/settings';
import { AttemptOutcome, HttpSender } from '../outbound/http-sender';
import { ACTION_QUEUE, ActionJobs } from '../queues/queue-names';
import { SourceRegistry } from '../sources/source-registry';
import { SourcesService } from '../sources/sources.service';
import { ActionEntity } from './action.entity';
import { ActionOutcomes } from './action-outcomes';
import { ActionsRepository } from './actions.repository';
import { afterFailedCall } from './retry';

/** How often an action waiting for an earlier one on its conversation looks again. */
const ORDER_WAIT_MS = 1000;

/**
 * Sends actions to their platforms. Only the oldest queued action of a conversation is sent;
 * the others wait (moved to delayed, no attempt spent) and the one that ends wakes the next.
 * Every wait (order, retry) is the job moved to delayed, so a retry holds no worker slot.
 */
@Processor(ACTION_QUEUE)
export class ActionsProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly actions: ActionsRepository,
    private readonly sources: SourcesService,
    private readonly registry: SourceRegistry,
    private readonly sender: HttpSender,
    private readonly outcomes: ActionOutcomes,
    private readonly settings: Settings,
    @InjectQueue(ACTION_QUEUE) private readonly queue: Queue,
    @Inject(LINE_LOGGER) private readonly lines: PinoLogger,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.settings.ACTION_CONCURRENCY;
  }

  async process(job: Job<ActionJobs['action.send']>, token?: string): Promise<void> {
    const found = await this.actions.findWithTurn(job.data.actionId);
    if (!found) return;
    const { action, firstQueued: first } = found;
    if (action.status !== 'queued') return this.ended(action);
    if (first !== null && first !== action.id) {
      await job.moveToDelayed(Date.now() + ORDER_WAIT_MS, token);
      // The earlier action may have ended between the check and the move, promoting nothing.
      if ((await this.actions.firstQueued(action.conversationKey)) === action.id) {
        await job.promote().catch(() => undefined);
      }
      throw new DelayedError();
    }
    const sent = await this.send(action);
    if (sent.status === 'queued') return this.delay(job, sent.delayMs, token);
    if (sent.status === 'ended') return this.ended(sent.action);
    const ended = await this.actions.findById(action.id);
    if (ended) await this.ended(ended);
  }

  /**
   * The worker's own errors (Redis gone while it starts or stops): logged, never an unhandled
   * 'error' event, which would take the process down.
   */
  @OnWorkerEvent('error')
  onError(error: Error): void {
    this.lines.warn({ context: ActionsProcessor.name, err: error.message }, 'actions worker error');
  }

  /**
   * A job that failed for good inside the router (Postgres down through every retry): its
   * action is failed, so it does not hold its conversation's later actions forever.
   */
  @OnWorkerEvent('failed')
  async onFailed(job: Job<ActionJobs['action.send']> | undefined, error: Error): Promise<void> {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    try {
      await this.actions.fail(job.data.actionId, `the router could not send it: ${error.message}`);
      const action = await this.actions.findById(job.data.actionId);
      if (action) await this.ended(action);
    } catch {
      // Still failing: the action stays queued, as its job is kept among the failed ones.
    }
  }

  /**
   * Makes the action's remaining calls: the wait before its next attempt, or the action as it
   * ended (`failed` without a call: to be read again).
   */
  private async send(action: ActionEntity): Promise<Sent> {
    const source = await this.sources.configured(action.sourceId);
    const platform = this.registry.get(action.sourceKind)?.actions;
    if (!source || !platform || !platform.capabilities.includes(action.kind)) {
      await this.actions.fail(
        action.id,
        source
          ? `the ${action.sourceKind} kind can no longer take "${action.kind}"`
          : `source ${action.sourceId} was deleted`,
      );
      return { status: 'failed' };
    }
    const calls = platform.calls(action.request, source.settings, action.target, {
      actionId: action.id,
      now: action.createdAt,
    });
    if (calls.length === 0) {
      await this.actions.fail(action.id, `the ${action.sourceKind} plug-in made no call for it`);
      return { status: 'failed' };
    }
    let current = action;
    let attempts = action.attempts;
    for (let index = action.nextCall; index < calls.length; index++) {
      const call = calls[index];
      const startedAt = new Date();
      const outcome = await this.sender.send({
        url: call.url,
        body: JSON.stringify(call.body),
        headers: call.headers,
        timeoutMs: this.settings.ACTION_TIMEOUT_MS,
      });
      attempts += 1;
      const last = index === calls.length - 1;
      const next = outcome.succeeded
        ? null
        : afterFailedCall(outcome, attempts, {
            maxAttempts: this.settings.ACTION_MAX_ATTEMPTS,
            baseMs: this.settings.ACTION_RETRY_BASE_MS,
            maxMs: this.settings.ACTION_RETRY_MAX_SECONDS * 1000,
          });
      const status = outcome.succeeded
        ? last
          ? 'succeeded'
          : 'queued'
        : next
          ? 'queued'
          : 'failed';
      current = await this.actions.recordAttempt(
        current,
        {
          attemptNumber: attempts,
          callIndex: index,
          call: call.label,
          url: platform.redactUrl ? platform.redactUrl(call.url) : call.url,
          statusCode: outcome.statusCode,
          error: outcome.error,
          responseExcerpt: outcome.responseExcerpt,
          durationMs: outcome.durationMs,
          startedAt,
        },
        {
          nextCall: outcome.succeeded ? index + 1 : index,
          status,
          error: outcome.succeeded ? null : describe(call.label, outcome),
        },
      );
      this.log(action, call.label, outcome, status, attempts);
      if (!outcome.succeeded && next) return { status: 'queued', delayMs: next.delayMs };
      if (!outcome.succeeded) break;
    }
    return { status: 'ended', action: current };
  }

  /** An ended action: its outcome event (again, harmlessly, after a crash), then the next one's turn. */
  private async ended(action: ActionEntity): Promise<void> {
    await this.outcomes.emit(action);
    const next = await this.actions.firstQueued(action.conversationKey);
    if (next === null) return;
    const job = await this.queue.getJob(next);
    if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
  }

  private async delay(job: Job, delayMs: number, token?: string): Promise<never> {
    await job.moveToDelayed(Date.now() + delayMs, token);
    throw new DelayedError();
  }

  private log(
    action: ActionEntity,
    call: string,
    outcome: AttemptOutcome,
    status: string,
    attempt: number,
  ): void {
    this.lines[status === 'failed' ? 'warn' : 'info'](
      {
        context: ActionsProcessor.name,
        actionId: action.id,
        sourceId: action.sourceId,
        kind: action.kind,
        call,
        attempt,
        statusCode: outcome.statusCode,
        durationMs: outcome.durationMs,
        outcome: status,
      },
      'action attempt',
    );
  }
}

type Sent =
  | { status: 'queued'; delayMs: number }
  | { status: 'ended'; action: ActionEntity }
  | { status: 'failed' };

function describe(call: string, outcome: AttemptOutcome): string {
  return `${call}: ${outcome.error ?? `HTTP ${outcome.statusCode}`}`;
}
