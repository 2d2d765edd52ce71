import { join } from 'node:path';
import { ManagedProcess } from './processes';
import { BENCH_ROOT, PROJECT_ROOT } from './report';

const FLOOR_DIR = join(BENCH_ROOT, 'dist', 'bench', 'floor');

/** bench/floor/ingest-floor.ts on `port`, queuing into `<prefix>:ingest`. */
export async function startIngestFloor(
  redisUrl: string,
  queuePrefix: string,
  port: number,
): Promise<{ process: ManagedProcess; url: string }> {
  const child = new ManagedProcess(
    'ingest floor',
    join(FLOOR_DIR, 'ingest-floor.js'),
    { REDIS_URL: redisUrl, QUEUE_PREFIX: queuePrefix, PORT: String(port), NODE_ENV: 'production' },
    { cwd: PROJECT_ROOT },
  );
  await child.waitUntil(async () => child.outputTail.includes('floor ready'));
  return { process: child, url: `http://127.0.0.1:${port}/webhooks/jivo/floor` };
}

/** bench/floor/delivery-floor.ts consuming `<prefix>:ingest`, posting to every target. */
export async function startDeliveryFloor(
  redisUrl: string,
  queuePrefix: string,
  targets: string[],
): Promise<ManagedProcess> {
  const child = new ManagedProcess(
    'delivery floor',
    join(FLOOR_DIR, 'delivery-floor.js'),
    {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: queuePrefix,
      TARGET_URLS: targets.join(','),
      NODE_ENV: 'production',
    },
    { cwd: PROJECT_ROOT },
  );
  await child.waitUntil(async () => child.outputTail.includes('floor ready'));
  return child;
}
