import { Redis } from 'ioredis';
import { readPostgresCpuMs } from './cpu';

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
  return { postgres: readPostgresCpuMs(), redis: await redisCpuMs(redisUrl) };
}
