import { getQueueToken } from '@nestjs/bullmq';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { DataSource } from 'typeorm';
import { RunningApp, startApp } from '../../src/bootstrap';
import { Settings } from '../../src/config/settings';
import { FirstAttempts } from '../../src/delivery/first-attempts';
import {
  ACTION_QUEUE,
  DELIVERY_QUEUE,
  INGEST_QUEUE,
  MAINTENANCE_QUEUE,
} from '../../src/queues/queue-names';
import { SubscriptionSnapshot } from '../../src/subscriptions/subscription-snapshot';
import { AdminAnswer, AdminClient } from './admin-client';
import { TEST_ADMIN_KEY, testSettings } from './test-settings';
import { waitFor } from './wait-for';

export interface TestApp {
  running: RunningApp;
  settings: Settings;
  url: string;
  /** fetch against the app with the admin key, JSON in and out. */
  admin(method: string, path: string, body?: unknown): Promise<AdminAnswer>;
  post(path: string, body: string | Buffer, headers?: Record<string, string>): Promise<Response>;
  dataSource: DataSource;
  /** Deletes every subscription (and its deliveries) once the queues are idle, and tells the subscriptions snapshot. */
  clearSubscriptions(): Promise<void>;
  /** Resolves once no ingest or delivery job is waiting, active or delayed, and no first attempt is in flight. */
  drainQueues(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** `env`: where the routes file's `${NAME}` references are read (ROUTES_APPLY_ON_START). */
export async function startTestApp(
  overrides: Record<string, string> = {},
  env: Record<string, string | undefined> = process.env,
): Promise<TestApp> {
  const settings = testSettings(overrides);
  const running = await startApp(settings, env);
  const url = running.url!;
  const admin = new AdminClient(url, TEST_ADMIN_KEY);
  const dataSource = running.context.get<DataSource>(getDataSourceToken());
  const queues = [INGEST_QUEUE, DELIVERY_QUEUE, ACTION_QUEUE].map((name) =>
    running.context.get<Queue>(getQueueToken(name)),
  );
  const firstAttempts = firstAttemptsOf(running, settings);
  async function drainQueues(timeoutMs = 20_000) {
    await waitFor(async () => {
      // First attempts an ingest job started are in no queue: none in flight before and after
      // the counts, and none started meanwhile (it could have queued a retry after they were read).
      const before = firstAttempts.activity();
      const counts = await Promise.all(
        queues.map((queue) => queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
      );
      const after = firstAttempts.activity();
      return (
        before.inFlight === 0 &&
        after.inFlight === 0 &&
        before.started === after.started &&
        counts.every((count) => Object.values(count).every((value) => value === 0))
      );
    }, timeoutMs);
  }
  return {
    running,
    settings,
    url,
    dataSource,
    admin: (method, path, body) => admin.request(method, path, body),
    post(path, body, headers = { 'content-type': 'application/json' }) {
      return fetch(`${url}${path}`, { method: 'POST', headers, body });
    },
    drainQueues,
    async clearSubscriptions() {
      await drainQueues();
      // A delayed retry of an earlier test may be recording an attempt: its locks and TRUNCATE's
      // can deadlock, and Postgres then cancels one of the two. Try again.
      for (let tries = 1; ; tries++) {
        try {
          await dataSource.query('TRUNCATE subscriptions CASCADE');
          break;
        } catch (error) {
          if ((error as { code?: string }).code !== '40P01' || tries === 5) throw error;
        }
      }
      await running.context.get(SubscriptionSnapshot).invalidate();
    },
    async close() {
      // The maintenance queue holds a job scheduler, so it is never idle: not drained, removed here.
      const maintenance = running.context.get<Queue>(getQueueToken(MAINTENANCE_QUEUE));
      await Promise.all(
        [...queues, maintenance].map((queue) =>
          queue.obliterate({ force: true }).catch(() => undefined),
        ),
      );
      await running.close();
    },
  };
}

/** The worker's first attempts; an API-only app has none in flight. */
function firstAttemptsOf(running: RunningApp, settings: Settings): Pick<FirstAttempts, 'activity'> {
  return settings.APP_ROLE === 'api'
    ? { activity: () => ({ inFlight: 0, started: 0 }) }
    : running.context.get(FirstAttempts, { strict: false });
}

/** Every item of a list route, following `nextCursor` page after page. */
export async function listAll(app: TestApp, path: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | null = null;
  do {
    const separator = path.includes('?') ? '&' : '?';
    const page = await app.admin('GET', cursor ? `${path}${separator}cursor=${cursor}` : path);
    if (page.status !== 200) throw new Error(`GET ${path}: ${page.status}`);
    items.push(...page.body.data);
    cursor = page.body.nextCursor;
  } while (cursor);
  return items;
}

/** Empties every table, so each suite starts from nothing. */
export async function resetDatabase(dataSource: DataSource): Promise<void> {
  await dataSource.query(
    `TRUNCATE delivery_attempts, deliveries, events, subscriptions, sources, conversation_messages,
       conversations, contact_links, contact_identities, contacts, retention_horizon,
       action_attempts, actions, api_keys
       RESTART IDENTITY CASCADE`,
  );
}
