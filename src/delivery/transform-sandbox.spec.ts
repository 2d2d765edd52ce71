import { execFileSync, spawn } from 'node:child_process';
import { isRunning } from '../../test/support/processes';
import { DEFAULT_TRANSFORM_LIMITS, TransformLimits } from '../policies/payload-transform';
import { SandboxUnavailableError, TransformSandboxPool } from './transform-sandbox';
import { transformFailure as failure } from '../policies/testing/transform-failure';

/** The expression from issue 10: V8's "invalid size" fatal error aborts any process running it. */
const BOMB =
  '($f := function($s,$i){ $i = 0 ? $s : $f($s & $s, $i - 1) }; {"n": $length($f("x", 27))})';
const EVENT = JSON.stringify({ contact: { name: 'Maria Souza' }, message: { text: 'Oi' } });
const NAME = '{"name": contact.name}';

describe('TransformSandboxPool', () => {
  let pool: TransformSandboxPool;
  const run = (expression: string, limits: Partial<TransformLimits> = {}) =>
    pool.run(expression, EVENT, { ...DEFAULT_TRANSFORM_LIMITS, ...limits });

  beforeEach(() => {
    pool = new TransformSandboxPool({ size: 2, heapMb: 64 });
  });

  afterEach(() => pool.close());

  it('shapes the body in a warm sandbox, reused run after run', async () => {
    expect(pool.size).toBe(0);
    for (let i = 0; i < 5; i++) expect(await run(NAME)).toBe('{"name":"Maria Souza"}');
    expect(await run('message.text')).toBe('"Oi"');
    expect(pool.started).toBe(1);
  });

  it('starts no more sandboxes than its size, however many runs wait', async () => {
    const bodies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => run(`{"n": ${i}, "name": contact.name}`)),
    );
    expect(bodies[19]).toBe('{"n":19,"name":"Maria Souza"}');
    expect(pool.started).toBe(2);
  });

  it.each([
    ['$undefinedFn(1)', 'evaluation', 'transform failed: Attempted to invoke a non-function'],
    ['contact.company', 'no_output', 'transform produced no output'],
    ['$pad("", 300000, "x")', 'too_large', 'transform output is larger than 262144 bytes'],
    ['{"f": $uppercase}', 'not_json', 'transform output is not plain JSON: a function at $.f'],
  ])('answers what %p did as a TransformError, sandbox kept', async (expression, reason, text) => {
    const error = await failure(run(expression));
    expect(error.reason).toBe(reason);
    expect(error.message).toContain(text);
    expect(await run(NAME)).toBe('{"name":"Maria Souza"}');
    expect(pool.started).toBe(1);
  });

  it('survives the invalid-size bomb: that run fails for memory, the sandbox is replaced', async () => {
    pool = new TransformSandboxPool({ size: 1, heapMb: 64 });
    const error = await failure(run(BOMB, { timeoutMs: 30_000 }));
    expect(error.reason).toBe('memory');
    expect(error.message).toMatch(
      /^transform (needed more than its 64 MB heap|built a value larger than V8 can hold)$/,
    );
    expect(await run(NAME)).toBe('{"name":"Maria Souza"}');
    expect(pool.started).toBe(2);
  });

  it('fails a transform that outgrows the heap budget', async () => {
    const error = await failure(run('$string([1..9999999])', { timeoutMs: 30_000 }));
    expect(error.reason).toBe('memory');
    expect(error.message).toBe('transform needed more than its 64 MB heap');
  });

  it('kills a sandbox stuck in one built-in call at the deadline (a ReDoS in $match)', async () => {
    pool = new TransformSandboxPool({ size: 1, heapMb: 64 });
    const redos = `$match("${'a'.repeat(40)}!", /(a+)+$/)`;
    const error = await failure(run(redos, { timeoutMs: 100 }));
    expect(error.reason).toBe('timeout');
    expect(error.message).toBe('transform timed out after 100 ms');
    expect(await run(NAME)).toBe('{"name":"Maria Souza"}');
    expect(pool.started).toBe(2);
  });

  it('answers the other runs while one blows up its sandbox', async () => {
    const others = Array.from({ length: 10 }, (_, i) => run(`{"n": ${i}}`));
    const bomb = failure(run(BOMB, { timeoutMs: 30_000 }));
    const later = Array.from({ length: 10 }, (_, i) => run(`{"m": ${i}}`));
    expect((await bomb).reason).toBe('memory');
    expect(await Promise.all(others)).toEqual(others.map((_, i) => `{"n":${i}}`));
    expect(await Promise.all(later)).toEqual(later.map((_, i) => `{"m":${i}}`));
  });

  it('fails what waits when closed, runs nothing after, and leaves no process behind', async () => {
    const runs = [run('$string([1..9999999])', { timeoutMs: 30_000 }), run(NAME), run(NAME)];
    const outcomes = runs.map((promise) => promise.catch((error: unknown) => error));
    await pool.close();
    for (const outcome of await Promise.all(outcomes)) {
      expect(outcome).toBeInstanceOf(SandboxUnavailableError);
    }
    await expect(run(NAME)).rejects.toThrow(SandboxUnavailableError);
    expect(pool.size).toBe(0);
  });

  it('fails the runs with SandboxUnavailableError when no sandbox can start', async () => {
    const broken = new TransformSandboxPool({ size: 1, heapMb: 1 });
    try {
      const error = await broken.run(NAME, EVENT, DEFAULT_TRANSFORM_LIMITS).catch((e) => e);
      expect(error).toBeInstanceOf(SandboxUnavailableError);
      expect(error.message).toMatch(/^transform sandbox did not start: /);
    } finally {
      await broken.close();
    }
  });
});

describe('a sandbox whose pool process dies', () => {
  it('exits too', async () => {
    // A process of its own that starts a sandbox, then waits to be killed.
    const script = `
      const { TransformSandboxPool } = require(${JSON.stringify(require.resolve('./transform-sandbox'))});
      const pool = new TransformSandboxPool({ size: 1, heapMb: 64 });
      pool.run('"ready"', '{}', { timeoutMs: 1000, maxOutputBytes: 100, maxDepth: 10 })
        .then((body) => process.stdout.write(body));
    `;
    const owner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const output = await new Promise<string>((resolve) =>
      owner.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())),
    );
    expect(output).toBe('"ready"');
    const sandboxPids = execFileSync('pgrep', ['-P', String(owner.pid)])
      .toString()
      .trim()
      .split('\n')
      .map(Number);
    expect(sandboxPids).toHaveLength(1);
    owner.kill('SIGKILL');
    await waitUntil(() => !isRunning(sandboxPids[0]));
  });

  async function waitUntil(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 50));
  }
});
