import { getQueueToken } from '@nestjs/bullmq';
import { Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionsProcessor } from '../../src/actions/actions.processor';
import { ACTION_STRANDED_AFTER_MS, StrandedActions } from '../../src/actions/stranded-actions';
import { ACTION_SWEEP_SCHEDULER_ID } from '../../src/maintenance/maintenance.processor';
import { ACTION_QUEUE, MAINTENANCE_QUEUE } from '../../src/queues/queue-names';
import { redisOptionsFromUrl } from '../../src/queues/redis-connection';
import { FakeJivoBotApi } from '../support/fake-platforms';
import { PROJECT_ROOT } from '../support/processes';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait-for';

describe('stranded actions: queued with no job left to send them', () => {
  let app: TestApp;
  let jivo: FakeJivoBotApi;
  let source: { id: string; token: string };
  let actionQueue: Queue;
  let maintenanceQueue: Queue;

  beforeAll(async () => {
    jivo = await new FakeJivoBotApi().start();
    app = await startTestApp();
    await resetDatabase(app.dataSource);
    actionQueue = app.running.context.get<Queue>(getQueueToken(ACTION_QUEUE));
    maintenanceQueue = app.running.context.get<Queue>(getQueueToken(MAINTENANCE_QUEUE));
    source = (
      await app.admin('POST', '/api/sources', {
        kind: 'jivo-bot',
        name: 'Jivo bot',
        botApiEndpoint: jivo.endpoint,
      })
    ).body;
  });

  afterAll(async () => {
    await app?.close();
    await jivo?.stop();
  });

  /** A Jivo chat the router has seen; answers its conversation key. */
  async function chat(chatId: string): Promise<string> {
    const message = {
      ...JSON.parse(
        readFileSync(join(PROJECT_ROOT, 'test/fixtures/jivo/bot_client_message.json'), 'utf8'),
      ),
      id: `evt-${chatId}`,
      chat_id: chatId,
      client_id: `client-${chatId}`,
      message: { type: 'TEXT', text: 'hello', timestamp: Math.floor(Date.now() / 1000) },
    };
    const response = await app.post(`/webhooks/jivo-bot/${source.token}`, JSON.stringify(message));
    expect(response.status).toBe(200);
    await app.drainQueues();
    return `jivo-bot:${source.id}:${chatId}`;
  }

  async function say(key: string, text: string): Promise<string> {
    const answer = await app.admin(
      'POST',
      `/api/conversations/${encodeURIComponent(key)}/messages`,
      {
        text,
      },
    );
    expect(answer.status).toBe(202);
    return answer.body.id;
  }

  const actionWorker = () => app.running.context.get(ActionsProcessor).worker;

  async function pauseActions() {
    await actionWorker().pause();
    await waitFor(() => !actionWorker().isRunning(), 15_000);
  }

  /** What a worker crashing on it again and again leaves: the action's job failed for good. */
  async function failForGood(jobId: string) {
    const crashing = new Worker(ACTION_QUEUE, null, {
      connection: redisOptionsFromUrl(app.settings.REDIS_URL),
      prefix: app.settings.QUEUE_PREFIX,
    });
    try {
      const job = (await crashing.getNextJob('crash')) as Job;
      expect(job.id).toBe(jobId);
      await job.moveToFailed(
        new UnrecoverableError('job stalled more than allowable limit'),
        'crash',
      );
    } finally {
      await crashing.close();
    }
    expect(await actionQueue.getJobState(jobId)).toBe('failed');
  }

  /** As if ACTION_STRANDED_AFTER_MS had passed since the action last changed. */
  async function age(ids: string[]) {
    await app.dataSource.query(
      `UPDATE actions SET updated_at = updated_at - $2 * interval '1 millisecond' WHERE id = ANY($1)`,
      [ids, ACTION_STRANDED_AFTER_MS + 60_000],
    );
  }

  /** One sweep, run as the scheduler runs it: a job on the maintenance queue. */
  async function sweep(): Promise<{ checked: number; requeued: number }> {
    const job = await maintenanceQueue.add('actions.sweep', {});
    await waitFor(async () => (await maintenanceQueue.getJobState(job.id!)) === 'completed');
    return (await Job.fromId(maintenanceQueue, job.id!))!.returnvalue;
  }

  const status = async (id: string) => (await app.admin('GET', `/api/actions/${id}`)).body.status;

  it('sends actions whose jobs were lost or failed for good, each once and in order, however many sweepers run', async () => {
    const key = await chat('stranded-1');
    await pauseActions();
    const first = await say(key, 'first');
    const second = await say(key, 'second');
    const third = await say(key, 'third');
    await failForGood(first); // a worker crashing on it, Postgres down when it gave up
    await actionQueue.remove(second); // Redis restarted without persistence
    await actionQueue.remove(third);
    expect(await actionQueue.getJobState(second)).toBe('unknown');
    actionWorker().resume();

    expect(await sweep()).toMatchObject({ requeued: 0 }); // not old enough: its job may be coming
    expect(await status(first)).toBe('queued');

    await age([first, second, third]);
    const sweepers = app.running.context.get(StrandedActions);
    const swept = await Promise.all([sweep(), sweepers.requeue(), sweepers.requeue()]);
    expect(swept.reduce((sum, counts) => sum + counts.requeued, 0)).toBe(3);

    await waitFor(async () => (await status(third)) === 'succeeded', 20_000);
    expect(await status(first)).toBe('succeeded');
    expect(await status(second)).toBe('succeeded');
    await app.drainQueues();
    const sent = jivo.events.filter((event) => event.chat_id === 'stranded-1');
    expect(sent.map((event) => event.message.text)).toEqual(['first', 'second', 'third']);

    expect(await sweep()).toMatchObject({ requeued: 0 }); // nothing left queued
  });

  it('leaves alone an old action whose job is still there', async () => {
    const key = await chat('stranded-2');
    await pauseActions();
    const waiting = await say(key, 'still queued');
    await age([waiting]);
    expect(await sweep()).toMatchObject({ requeued: 0 });
    expect(await actionQueue.getJobState(waiting)).toBe('waiting');
    actionWorker().resume();
    await waitFor(async () => (await status(waiting)) === 'succeeded', 20_000);
    expect(jivo.events.filter((event) => event.chat_id === 'stranded-2')).toHaveLength(1);
  });

  it('schedules the sweep on the maintenance queue', async () => {
    const scheduled = await startTestApp({
      ACTION_SWEEP_INTERVAL_MINUTES: '1',
      RETENTION_INTERVAL_MINUTES: '0',
    });
    try {
      const queue = scheduled.running.context.get<Queue>(getQueueToken(MAINTENANCE_QUEUE));
      expect(await queue.getJobScheduler(ACTION_SWEEP_SCHEDULER_ID)).toMatchObject({
        name: 'actions.sweep',
        every: 60_000,
      });
    } finally {
      await scheduled.close();
    }
  });
});
