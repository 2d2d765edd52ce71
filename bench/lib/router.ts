import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AdminClient, answersOk } from '../../test/support/admin-client';
import { freePort, ManagedProcess, RouterProcess } from '../../test/support/processes';
import { RESULTS_DIR } from './report';

export const OUTPUT_TAIL_CHARS = 20_000;
export const READY_TIMEOUT_MS = 60_000;

export interface RouterEnvironment {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  adminKey: string;
}

let started = 0;

/** bench/results/router-<role>-<n>.log: each router process's JSON log lines. */
function logFileFor(role: 'api' | 'worker'): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  started += 1;
  return join(RESULTS_DIR, `router-${role}-${started}.log`);
}

/** `BENCH_ROUTER_ENV="NAME=value NAME=value"`: extra settings for the router processes. */
function extraRouterEnv(): Record<string, string> {
  const raw = process.env.BENCH_ROUTER_ENV?.trim();
  if (!raw) return {};
  return Object.fromEntries(
    raw.split(/\s+/).map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`BENCH_ROUTER_ENV: expected NAME=value, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

function routerEnv(env: RouterEnvironment, role: 'api' | 'worker'): Record<string, string> {
  return {
    APP_ROLE: role,
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    DATABASE_URL: env.databaseUrl,
    REDIS_URL: env.redisUrl,
    QUEUE_PREFIX: env.queuePrefix,
    ADMIN_API_KEYS: env.adminKey,
    ALLOW_PRIVATE_TARGETS: 'true',
    ...extraRouterEnv(),
  };
}

/** How the bench runs a router process: its JSON logs to a file, SIGINT to stop (CPU profiles). */
function benchRouter(
  role: 'api' | 'worker',
  env: Record<string, string>,
  options: { nodeArgs?: string[]; label?: string },
): RouterProcess {
  return new RouterProcess(env, {
    name: options.label ?? `router ${role}`,
    nodeArgs: options.nodeArgs,
    logFile: logFileFor(role),
    outputTailChars: OUTPUT_TAIL_CHARS,
    stopSignal: 'SIGINT',
  });
}

/** `node dist/main.js` with APP_ROLE=api; ready once the admin API answers. */
export async function startRouterApi(
  env: RouterEnvironment,
  port: number,
  options: { nodeArgs?: string[]; env?: Record<string, string>; label?: string } = {},
): Promise<{ process: ManagedProcess; admin: RouterAdmin }> {
  const child = benchRouter(
    'api',
    { ...routerEnv(env, 'api'), PORT: String(port), HOST: '127.0.0.1', ...options.env },
    options,
  );
  const admin = new RouterAdmin(`http://127.0.0.1:${port}`, env.adminKey);
  await child.start(() => admin.isUp(), READY_TIMEOUT_MS);
  return { process: child, admin };
}

/** `node dist/main.js` with APP_ROLE=worker; ready once its own health endpoint says so. */
export async function startRouterWorker(
  env: RouterEnvironment,
  options: { nodeArgs?: string[]; env?: Record<string, string>; label?: string } = {},
): Promise<ManagedProcess> {
  const healthPort = await freePort();
  const child = benchRouter(
    'worker',
    { ...routerEnv(env, 'worker'), WORKER_HEALTH_PORT: String(healthPort), ...options.env },
    options,
  );
  await child.start(
    () => answersOk(`http://127.0.0.1:${healthPort}/health/ready`),
    READY_TIMEOUT_MS,
  );
  return child;
}

export interface CreatedSource {
  id: string;
  url: string;
}

/** The few admin API calls the bench needs, over the shared admin client. */
export class RouterAdmin extends AdminClient {
  isUp(): Promise<boolean> {
    return this.answers('/api/sources/kinds');
  }

  async createJivoSource(name: string): Promise<CreatedSource> {
    const source = await this.expectOk<{ id: string; url: string }>('POST', '/api/sources', {
      kind: 'jivo',
      name,
    });
    // The printed URL uses PUBLIC_BASE_URL; the bench calls the process it started.
    return { id: source.id, url: `${this.baseUrl}${new URL(source.url).pathname}` };
  }

  async createSubscription(name: string, url: string, sourceId: string): Promise<void> {
    await this.expectOk('POST', '/api/subscriptions', {
      name,
      url,
      eventTypes: ['*'],
      sourceIds: [sourceId],
    });
  }
}
