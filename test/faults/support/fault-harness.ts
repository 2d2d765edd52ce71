import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Client } from 'pg';
import { AdminClient, answersOk } from '../../support/admin-client';
import { freePort, RouterProcess } from '../../support/processes';
import { waitFor } from '../../support/wait-for';
import { FaultSink, SinkResponder } from './fault-sink';

const ADMIN_KEY = `faults-admin-${randomBytes(12).toString('hex')}`;
export const SINK_PATHS = ['/sub-a', '/sub-b'] as const;

export interface HarnessOptions {
  databaseUrl: string;
  redisUrl: string;
  /** Extra fields for both subscriptions (retryPolicy, timeoutMs…). */
  subscription?: Record<string, unknown>;
  /**
   * More subscriptions, by sink path (not one of SINK_PATHS), with their fields (filter,
   * transform…). Their deliveries are accounted apart: the scenario says what they should be.
   */
  extraSubscriptions?: Record<string, Record<string, unknown>>;
  sinkResponder?: SinkResponder;
  /** Remove what the run left on the machine's shared services: its database, its queue keys. */
  cleanup: { dropDatabase: boolean; deleteQueueKeys: boolean };
}

/**
 * One router deployment under test: an API process, a worker process, a local sink, a Chatwoot
 * source and two subscriptions (every event type, one sink path each), and any extra ones.
 */
export class FaultHarness {
  readonly queuePrefix = `faults_${randomBytes(4).toString('hex')}`;
  readonly sink: FaultSink;
  private api: RouterProcess | null = null;
  private worker: RouterProcess | null = null;
  apiUrl = '';
  /** The admin API of the harness's router, once booted. */
  admin!: AdminClient;
  webhookUrl = '';
  private workerHealthUrl = '';
  private env: Record<string, string> = {};

  private constructor(private readonly options: HarnessOptions) {
    this.sink = new FaultSink(options.sinkResponder);
  }

  static async start(options: HarnessOptions): Promise<FaultHarness> {
    const harness = new FaultHarness(options);
    try {
      await harness.boot();
    } catch (error) {
      await harness.close();
      throw error;
    }
    return harness;
  }

  private async boot(): Promise<void> {
    await this.sink.start();
    const port = await freePort();
    this.apiUrl = `http://127.0.0.1:${port}`;
    this.admin = new AdminClient(this.apiUrl, ADMIN_KEY);
    this.env = {
      NODE_ENV: 'production',
      DATABASE_URL: this.options.databaseUrl,
      REDIS_URL: this.options.redisUrl,
      QUEUE_PREFIX: this.queuePrefix,
      ADMIN_API_KEYS: ADMIN_KEY,
      ALLOW_PRIVATE_TARGETS: 'true',
      DELIVERY_RETRY_SCHEDULE: '0.2,0.2,0.5,1,1,2,2',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
    };
    this.api = this.routerProcess('api');
    // Sequentially: both would run the migrations of a new database at once otherwise.
    await this.api.start(() => this.admin.answers('/api/sources'), 60_000);
    await this.startWorker();

    const source = await this.admin.expectOk('POST', '/api/sources', {
      kind: 'chatwoot',
      name: 'fault load',
    });
    this.webhookUrl = `${this.apiUrl}/webhooks/chatwoot/${source.token as string}`;
    for (const path of SINK_PATHS) {
      await this.admin.expectOk('POST', '/api/subscriptions', {
        name: `fault sink ${path}`,
        url: `${this.sink.url}${path}`,
        eventTypes: ['*'],
        sourceIds: [source.id],
        ...this.options.subscription,
      });
    }
    for (const [path, fields] of Object.entries(this.options.extraSubscriptions ?? {})) {
      await this.admin.expectOk('POST', '/api/subscriptions', {
        name: `fault sink ${path}`,
        url: `${this.sink.url}${path}`,
        eventTypes: ['*'],
        sourceIds: [source.id],
        ...fields,
      });
    }
  }

  /** The liveness URLs of the API and of the current worker. */
  healthUrls(): { api: string; worker: string } {
    return { api: `${this.apiUrl}/health/live`, worker: this.workerHealthUrl };
  }

  /** Whether the API and the worker this harness started last are still running. */
  processesRunning(): { api: boolean; worker: boolean } {
    return { api: this.api?.isRunning ?? false, worker: this.worker?.isRunning ?? false };
  }

  /** `kill -9`: the worker gets no chance to finish, release or record anything. */
  async killWorker(): Promise<void> {
    await this.worker?.stop('SIGKILL');
  }

  /** Ready once its health port answers: the worker's only HTTP surface. */
  async startWorker(): Promise<void> {
    const healthPort = await freePort();
    this.worker = this.routerProcess('worker', { WORKER_HEALTH_PORT: String(healthPort) });
    this.workerHealthUrl = `http://127.0.0.1:${healthPort}/health/live`;
    await this.worker.start(() => answersOk(this.workerHealthUrl), 60_000);
  }

  /** The last output of the API and the current worker, for a report or a failure. */
  outputTails(): Record<string, string> {
    return { api: this.api?.output ?? '', worker: this.worker?.output ?? '' };
  }

  /** Resolves once the API answers a webhook with 200 again (after a fault). */
  async waitUntilAccepting(timeoutMs = 60_000): Promise<void> {
    await waitFor(() => this.admin.answers('/api/sources'), timeoutMs, 200);
  }

  /** A Postgres client on the router's database; the caller ends it. */
  async database(): Promise<Client> {
    const client = new Client({ connectionString: this.options.databaseUrl });
    await client.connect();
    return client;
  }

  /** Stops everything this harness started; on the shared services, removes what it created. */
  async close(): Promise<void> {
    await Promise.allSettled([this.api?.stop(), this.worker?.stop(), this.sink.stop()]);
    const { dropDatabase, deleteQueueKeys } = this.options.cleanup;
    await Promise.allSettled([
      dropDatabase ? this.dropDatabase() : undefined,
      deleteQueueKeys ? this.deleteQueueKeys() : undefined,
    ]);
  }

  private routerProcess(role: 'api' | 'worker', env: Record<string, string> = {}) {
    return new RouterProcess(
      { ...this.env, ...env, APP_ROLE: role },
      { outputTailChars: 64 * 1024 },
    );
  }

  private async dropDatabase(): Promise<void> {
    const url = new URL(this.options.databaseUrl);
    const name = decodeURIComponent(url.pathname.slice(1));
    url.pathname = '/postgres';
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }

  private async deleteQueueKeys(): Promise<void> {
    const redis = new Redis(this.options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(
          cursor,
          'MATCH',
          `${this.queuePrefix}:*`,
          'COUNT',
          1000,
        );
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}
