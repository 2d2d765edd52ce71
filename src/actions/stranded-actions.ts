import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { JobState } from 'bullmq';
import { ACTION_QUEUE } from '../queues/queue-names';
import { ActionQueue, queueAction } from './action-jobs';
import { ActionsRepository } from './actions.repository';

/**
 * The API stores an action before it queues its job, and a job may be stalled a while before
 * BullMQ takes it back: a queued action untouched this long with no live job is stranded.
 */
export const ACTION_STRANDED_AFTER_MS = 2 * 60_000;
const SWEEP_PAGE = 500;
/** Actions one sweep looks at, oldest first; the next sweep starts again from the oldest. */
const SWEEP_LIMIT = 10_000;

/** A job in one of these states will make no attempt. */
const FINISHED: readonly (JobState | 'unknown')[] = ['completed', 'failed', 'unknown'];

/**
 * Queues again the actions whose job is gone (Redis restarted without persistence, a process
 * killed between the row and the job) or failed for good while the router could not record it.
 * Such an action would stay `queued` and hold every later action of its conversation.
 */
@Injectable()
export class StrandedActions {
  constructor(
    @InjectQueue(ACTION_QUEUE) private readonly queue: ActionQueue,
    private readonly actions: ActionsRepository,
  ) {}

  /**
   * Each stranded action is claimed in a conditional update, so sweepers running at once queue
   * it once; its job id is its own id, so a job that turned up meanwhile is not doubled. The
   * worker sends queued actions of one conversation oldest first, so order holds.
   */
  async requeue(): Promise<{ checked: number; requeued: number }> {
    let checked = 0;
    let requeued = 0;
    let after = '';
    while (checked < SWEEP_LIMIT) {
      const page = await this.actions.untouchedQueued(after, ACTION_STRANDED_AFTER_MS, SWEEP_PAGE);
      checked += page.length;
      const finished = await this.withFinishedJob(page);
      const claimed = await this.actions.claimUntouched(
        finished.map((entry) => entry.id),
        ACTION_STRANDED_AFTER_MS,
      );
      for (const { id, state } of finished.filter((entry) => claimed.includes(entry.id))) {
        // A finished job still in Redis keeps its id taken: it goes before the new one.
        if (state !== 'unknown') await this.queue.remove(id);
        await queueAction(this.queue, id);
        requeued += 1;
      }
      if (page.length < SWEEP_PAGE) break;
      after = page[page.length - 1];
    }
    return { checked, requeued };
  }

  private async withFinishedJob(
    ids: string[],
  ): Promise<{ id: string; state: JobState | 'unknown' }[]> {
    const states = await Promise.all(ids.map((id) => this.queue.getJobState(id)));
    return ids
      .map((id, index) => ({ id, state: states[index] }))
      .filter((entry) => FINISHED.includes(entry.state));
  }
}
