import { randomBytes } from 'node:crypto';
import { loadSettings, Settings } from '../../src/config/settings';

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/webhook_router_test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789';

/**
 * The environment of one test router: real Postgres and Redis, its own queue prefix (starting
 * with `prefix`), fast retries, on 127.0.0.1:`port`.
 */
export function testEnvironment(
  prefix: string,
  port: number,
  overrides: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: `${prefix}_${randomBytes(4).toString('hex')}`,
    ADMIN_API_KEYS: TEST_ADMIN_KEY,
    ALLOW_PRIVATE_TARGETS: 'true',
    DELIVERY_RETRY_SCHEDULE: '0.05,0.05,0.05,0.05',
    WORKER_HEALTH_PORT: '0',
    // Each router has its own queue prefix, so to its sweeps every older pending delivery (or held
    // conversation) in the shared test database would look stranded. Specs of a sweep turn it on.
    DELIVERY_SWEEP_INTERVAL_MINUTES: '0',
    FIRST_ATTEMPT_SWEEP_INTERVAL_SECONDS: '0',
    ORDERING_SWEEP_INTERVAL_SECONDS: '0',
    ACTION_SWEEP_INTERVAL_MINUTES: '0',
    ...overrides,
  };
}

/** Settings for one test app in this process (testEnvironment's, on a port of its own). */
export function testSettings(overrides: Record<string, string> = {}): Settings {
  return loadSettings(testEnvironment('test', 0, overrides));
}
