import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { AcceptClock, acceptKeys } from './accept-clock';

const connection = { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null };

describe('AcceptClock (real Redis)', () => {
  const prefix = `test-accept-clock-${randomUUID()}`;
  const queue = new Queue('ingest', { connection, prefix });
  const redis = new Redis(connection);
  const clock = new AcceptClock(queue);
  const { clock: clockKey, accepting } = acceptKeys(queue);

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await Promise.all([queue.close(), redis.quit()]);
  });

  beforeAll(async () => {
    // The connection learns the accept script on its first use.
    await clock.accept('evt_teaches_the_script');
  });

  beforeEach(async () => {
    await redis.del(clockKey, accepting);
  });

  /** The arguments of each call of the queue connection's `command` made while `work` runs. */
  async function callsDuring(command: string, work: () => Promise<unknown>): Promise<string[][]> {
    const client = (await queue.client) as unknown as Record<
      string,
      (...args: string[]) => Promise<unknown>
    >;
    const original = client[command];
    const calls: string[][] = [];
    client[command] = (...args: string[]) => {
      calls.push(args);
      return original.apply(client, args);
    };
    try {
      await work();
      return calls;
    } finally {
      client[command] = original;
    }
  }

  async function marksCleared(): Promise<void> {
    const deadline = Date.now() + 2000;
    while ((await redis.zcard(accepting)) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('accepts the webhooks asking in one turn with one script call, marked at one time', async () => {
    const eventIds = ['evt_turn_a', 'evt_turn_b', 'evt_turn_c', 'evt_turn_d'];
    let times: number[] = [];
    const scripts = await callsDuring('acceptWebhooks', async () => {
      times = await Promise.all(eventIds.map((eventId) => clock.accept(eventId)));
    });
    expect(scripts.map((args) => args.slice(2))).toEqual([eventIds]);
    expect(new Set(times).size).toBe(1);
    const marks = await redis.zmscore(accepting, ...eventIds);
    expect(marks).toEqual(eventIds.map(() => String(times[0])));
  });

  it('hands out times that never go back, from turn to turn and call to call', async () => {
    const answered: Array<{ turn: number; acceptedAt: number }> = [];
    const pending: Array<Promise<void>> = [];
    for (let turn = 0; turn < 20; turn++) {
      for (let index = 0; index < 10; index++) {
        pending.push(
          clock.accept(`evt_order_${turn}_${index}`).then((acceptedAt) => {
            answered.push({ turn, acceptedAt });
          }),
        );
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(pending);
    const turns = answered.map((answer) => answer.turn);
    expect(turns).toEqual([...turns].sort((a, b) => a - b));
    const times = answered.map((answer) => answer.acceptedAt);
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // A clock stepped back hands out no earlier time, to a whole turn at once.
    const last = times[times.length - 1];
    await redis.set(clockKey, String(last + 60_000));
    const afterStep = await Promise.all([clock.accept('evt_step_a'), clock.accept('evt_step_b')]);
    expect(afterStep).toEqual([last + 60_000, last + 60_000]);
  });

  it('marks every webhook as being queued before it has its time', async () => {
    const eventIds = Array.from({ length: 30 }, (_, index) => `evt_marked_${index}`);
    const markedWhenAnswered = await Promise.all(
      eventIds.map(async (eventId) => {
        const acceptedAt = await clock.accept(eventId);
        return Number(await redis.zscore(accepting, eventId)) === acceptedAt;
      }),
    );
    expect(markedWhenAnswered.every(Boolean)).toBe(true);
    for (const eventId of eventIds) clock.queued(eventId);
    await marksCleared();
    expect(await redis.zcard(accepting)).toBe(0);
  });

  it('clears the marks of webhooks queued in one turn with one ZREM', async () => {
    const eventIds = ['evt_clear_a', 'evt_clear_b', 'evt_clear_c'];
    await Promise.all(eventIds.map((eventId) => clock.accept(eventId)));
    expect(await redis.zcard(accepting)).toBe(3);
    const removals = await callsDuring('zrem', async () => {
      for (const eventId of eventIds) clock.queued(eventId);
      await marksCleared();
    });
    expect(await redis.zcard(accepting)).toBe(0);
    expect(removals).toEqual([[accepting, ...eventIds]]);
  });

  it('fails every webhook of a turn whose script fails, and serves the next turn', async () => {
    // A clock key Redis cannot read as a number: the script fails, as it would on an error reply.
    await redis.hset(clockKey, 'broken', '1');
    const outcomes = await Promise.allSettled(
      ['evt_fail_a', 'evt_fail_b', 'evt_fail_c'].map((eventId) => clock.accept(eventId)),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await redis.zcard(accepting)).toBe(0);

    await redis.del(clockKey);
    expect(await clock.accept('evt_after_failure')).toBeGreaterThan(0);
  });
});
