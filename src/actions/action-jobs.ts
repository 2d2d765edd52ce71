import { JobsOptions, Queue } from 'bullmq';
import { ActionJobs } from '../queues/queue-names';

export type ActionQueue = Queue<ActionJobs['action.send']>;

/** The job id is the action id: adding an action's job again while one is queued adds nothing. */
const ACTION_JOB_OPTIONS: JobsOptions = {
  removeOnComplete: true,
  removeOnFail: 1000,
  attempts: 10,
  backoff: { type: 'exponential', delay: 1000 },
};

/** Queues the job that sends an action (from the API, and again from the stranded-action sweep). */
export async function queueAction(queue: ActionQueue, actionId: string): Promise<void> {
  await queue.add('action.send', { actionId }, { ...ACTION_JOB_OPTIONS, jobId: actionId });
}
