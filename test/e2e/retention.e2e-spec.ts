import { getQueueToken } from '@nestjs/bullmq';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { RETENTION_SCHEDULER_ID } from '../../src/maintenance/maintenance.processor';
import { RETENTION_BATCH_SIZE, RetentionService } from '../../src/maintenance/retention.service';
import { MAINTENANCE_QUEUE } from '../../src/queues/queue-names';
import { startTestApp, TestApp } from '../support/test-app';

const DAY_MS = 24 * 3600_000;

describe('retention purge (real Postgres)', () => {
  // Rows of this run only: other suites may share the database meanwhile.
  const run = `ret${randomBytes(4).toString('hex')}`;
  const now = new Date();
  const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      RETENTION_EVENTS_DAYS: '30',
      RETENTION_ATTEMPTS_DAYS: '7',
      RETENTION_INTERVAL_MINUTES: '0',
    });
  });

  afterAll(async () => {
    await app.dataSource.query(`DELETE FROM events WHERE id LIKE $1`, [`evt_${run}%`]);
    await app.dataSource.query(`DELETE FROM subscriptions WHERE id = $1`, [`sub_${run}`]);
    await app.close();
  });

  async function event(id: string, receivedAt: Date) {
    await app.dataSource.query(
      `INSERT INTO events (id, source_id, source_kind, status, occurred_at, received_at, raw_body)
       VALUES ($1, 'src_retention', 'jivo', 'routed', $2, $2, '{}')`,
      [`evt_${run}_${id}`, receivedAt],
    );
  }

  async function delivery(eventId: string, status: string, attemptsStartedAt: Date[] = []) {
    const id = `dlv_${run}_${eventId}`;
    await app.dataSource.query(
      `INSERT INTO deliveries (id, event_id, subscription_id, status, attempt_count)
       VALUES ($1, $2, $3, $4, $5)`,
      [id, `evt_${run}_${eventId}`, `sub_${run}`, status, attemptsStartedAt.length],
    );
    for (const [index, startedAt] of attemptsStartedAt.entries()) {
      await app.dataSource.query(
        `INSERT INTO delivery_attempts (delivery_id, attempt_number, started_at, duration_ms, succeeded)
         VALUES ($1, $2, $3, 10, $4)`,
        [
          id,
          index + 1,
          startedAt,
          status === 'succeeded' && index === attemptsStartedAt.length - 1,
        ],
      );
    }
  }

  async function remaining() {
    const events = (await app.dataSource.query(
      `SELECT id FROM events WHERE id LIKE $1 AND id NOT LIKE $2 ORDER BY id`,
      [`evt_${run}%`, `evt_${run}_bulk%`],
    )) as { id: string }[];
    const attempts = (await app.dataSource.query(
      `SELECT d.event_id, a.started_at FROM delivery_attempts a
       JOIN deliveries d ON d.id = a.delivery_id
       WHERE d.id LIKE $1 ORDER BY d.event_id, a.attempt_number`,
      [`dlv_${run}%`],
    )) as { event_id: string; started_at: Date }[];
    const strip = (id: string) => id.replace(`evt_${run}_`, '');
    return {
      events: events.map((row) => strip(row.id)),
      attempts: attempts.map((row) => `${strip(row.event_id)}@${row.started_at.toISOString()}`),
    };
  }

  it('deletes old finished events (in batches) and old attempts of finished deliveries; keeps the rest', async () => {
    await app.dataSource.query(
      `INSERT INTO subscriptions (id, name, url, event_types, secret)
       VALUES ($1, 'retention', 'http://127.0.0.1:9/', '{*}', 'whsec_retention')`,
      [`sub_${run}`],
    );
    await event('old_succeeded', daysAgo(40));
    await delivery('old_succeeded', 'succeeded', [daysAgo(40)]);
    await event('old_dead', daysAgo(35));
    await delivery('old_dead', 'dead', [daysAgo(35), daysAgo(34)]);
    await event('old_unrouted', daysAgo(31));
    await event('old_pending', daysAgo(40));
    await delivery('old_pending', 'pending');
    await event('old_failed', daysAgo(40));
    await delivery('old_failed', 'failed', [daysAgo(40)]);
    await event('recent_succeeded', daysAgo(10));
    await delivery('recent_succeeded', 'succeeded', [daysAgo(10), daysAgo(2)]);
    await event('recent_failed', daysAgo(10));
    await delivery('recent_failed', 'failed', [daysAgo(10)]);
    await event('new', daysAgo(0));
    // More old events than one batch deletes.
    const bulk = RETENTION_BATCH_SIZE * 2 + 1;
    await app.dataSource.query(
      `INSERT INTO events (id, source_id, source_kind, status, occurred_at, received_at, raw_body)
       SELECT $1 || n, 'src_retention', 'jivo', 'routed', $2, $2, '{}' FROM generate_series(1, $3) n`,
      [`evt_${run}_bulk`, daysAgo(60), bulk],
    );

    const counts = await app.running.context.get(RetentionService).purge(now);

    expect(counts).toEqual({
      events: 3 + bulk,
      attempts: 1,
      completedJobs: expect.any(Number),
      failedJobs: expect.any(Number),
    });
    expect(await remaining()).toEqual({
      events: ['new', 'old_failed', 'old_pending', 'recent_failed', 'recent_succeeded'].sort(),
      attempts: [
        `old_failed@${daysAgo(40).toISOString()}`,
        `recent_failed@${daysAgo(10).toISOString()}`,
        `recent_succeeded@${daysAgo(2).toISOString()}`,
      ],
    });
    // Deliveries went with their events.
    const [{ count }] = (await app.dataSource.query(
      `SELECT count(*)::int AS count FROM deliveries WHERE id LIKE $1`,
      [`dlv_${run}%`],
    )) as { count: number }[];
    expect(count).toBe(4);

    // Nothing more to do the second time.
    expect(await app.running.context.get(RetentionService).purge(now)).toMatchObject({
      events: 0,
      attempts: 0,
    });
  });

  it('keeps everything when the retention is 0 days', async () => {
    const keepAll = await startTestApp({
      RETENTION_EVENTS_DAYS: '0',
      RETENTION_ATTEMPTS_DAYS: '0',
      RETENTION_INTERVAL_MINUTES: '0',
    });
    try {
      await event('kept_forever', daysAgo(400));
      const counts = await keepAll.running.context.get(RetentionService).purge(now);
      expect(counts).toMatchObject({ events: 0, attempts: 0, failedJobs: 0 });
      expect((await remaining()).events).toContain('kept_forever');
    } finally {
      await keepAll.close();
    }
  });

  it('schedules the purge once per interval on the maintenance queue', async () => {
    const scheduled = await startTestApp({ RETENTION_INTERVAL_MINUTES: '15' });
    try {
      const queue = scheduled.running.context.get<Queue>(getQueueToken(MAINTENANCE_QUEUE));
      const scheduler = await queue.getJobScheduler(RETENTION_SCHEDULER_ID);
      expect(scheduler).toMatchObject({ name: 'retention.purge', every: 15 * 60_000 });
      expect(await queue.getJobSchedulersCount()).toBe(1);
    } finally {
      await scheduled.close();
    }
  });
});
