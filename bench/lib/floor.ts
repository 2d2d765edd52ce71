import { join } from 'node:path';
import { ManagedProcess } from '../../test/support/processes';
import { BENCH_ROOT, PROJECT_ROOT } from './report';
import { OUTPUT_TAIL_CHARS, READY_TIMEOUT_MS } from './router';

const FLOOR_DIR = join(BENCH_ROOT, 'dist', 'bench', 'floor');

function floorProcess(name: string, script: string, env: Record<string, string>) {
  return new ManagedProcess(name, {
    args: [join(FLOOR_DIR, script)],
    cwd: PROJECT_ROOT,
    env,
    outputTailChars: OUTPUT_TAIL_CHARS,
    stopSignal: 'SIGINT',
  });
}

/**
 * bench/floor/ingest-floor.ts on `port`, queuing into `<prefix>:ingest`: with the router's job
 * options, or (`jobOptions: 'default'`) the plain floor with BullMQ's defaults.
 */
export async function startIngestFloor(
  redisUrl: string,
  queuePrefix: string,
  port: number,
  jobOptions: 'router' | 'default' = 'router',
): Promise<{ process: ManagedProcess; url: string }> {
  const name = jobOptions === 'default' ? 'plain ingest floor' : 'ingest floor';
  const child = floorProcess(name, 'ingest-floor.js', {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    PORT: String(port),
    NODE_ENV: 'production',
    JOB_OPTIONS: jobOptions,
  });
  await child.start(/floor ready/, READY_TIMEOUT_MS);
  return { process: child, url: `http://127.0.0.1:${port}/webhooks/jivo/floor` };
}

/** bench/floor/delivery-floor.ts consuming `<prefix>:ingest`, posting to every target. */
export async function startDeliveryFloor(
  redisUrl: string,
  queuePrefix: string,
  targets: string[],
): Promise<ManagedProcess> {
  const child = floorProcess('delivery floor', 'delivery-floor.js', {
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: queuePrefix,
    TARGET_URLS: targets.join(','),
    NODE_ENV: 'production',
  });
  await child.start(/floor ready/, READY_TIMEOUT_MS);
  return child;
}
