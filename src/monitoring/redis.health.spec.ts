import { HealthIndicatorService } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { freePort } from '../../test/support/processes';
import { SharedRedis } from '../queues/shared-redis';
import { RedisHealthIndicator } from './redis.health';

function indicatorFor(client: Pick<Redis, 'ping'>): RedisHealthIndicator {
  return new RedisHealthIndicator({ client } as SharedRedis, new HealthIndicatorService());
}

describe('RedisHealthIndicator', () => {
  it('is up when PING answers PONG', async () => {
    const indicator = indicatorFor({ ping: async () => 'PONG' } as Pick<Redis, 'ping'>);
    await expect(indicator.pingCheck('redis')).resolves.toEqual({
      redis: expect.objectContaining({ status: 'up' }),
    });
  });

  it('is down, within its timeout, when Redis does not answer', async () => {
    const never = { ping: () => new Promise<'PONG'>(() => undefined) } as Pick<Redis, 'ping'>;
    const started = Date.now();
    const result = await indicatorFor(never).pingCheck('redis', 100);
    expect(result.redis.status).toBe('down');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('is down when the client cannot connect (a closed port)', async () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: await freePort(),
      maxRetriesPerRequest: 1,
      // Gives up after two reconnections, so nothing is left running once the test is done.
      retryStrategy: (times) => (times > 2 ? null : 50),
    });
    client.on('error', () => undefined);
    try {
      const started = Date.now();
      const result = await indicatorFor(client).pingCheck('redis', 300);
      expect(result).toEqual({ redis: expect.objectContaining({ status: 'down' }) });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      if (client.status !== 'end') await new Promise((resolve) => client.once('end', resolve));
    }
  });
});
