import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (ms) the Postgres server on this machine has used so far: its live processes, and the
 * backends it has reaped (the postmaster's children's times). Null when no Postgres process is
 * visible here (a remote server, or no /proc).
 */
export function postgresCpuMs(): number | null {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  let ticks = 0;
  let found = false;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile: its time is in the postmaster's children's
    }
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
    found = true;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, cutime, cstime: only the postmaster has children.
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return found ? (ticks * 1000) / TICKS_PER_SECOND : null;
}

/** CPU time (ms) the Redis server has used so far (`INFO cpu`); null when it cannot be read. */
export async function redisCpuMs(redisUrl: string): Promise<number | null> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  try {
    await redis.connect();
    const info = await redis.info('cpu');
    const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1]);
    const total = seconds('used_cpu_sys') + seconds('used_cpu_user');
    return Number.isFinite(total) ? total * 1000 : null;
  } catch {
    return null;
  } finally {
    redis.disconnect();
  }
}

/** The shared servers' CPU so far, to take the difference of over a measured pass. */
export async function serviceCpuMs(
  redisUrl: string,
): Promise<{ postgres: number | null; redis: number | null }> {
  return { postgres: postgresCpuMs(), redis: await redisCpuMs(redisUrl) };
}
