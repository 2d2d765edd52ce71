/**
 * Transforms are user-written code run on sender-written data. One can loop inside a single
 * built-in call (a ReDoS in `$match`), fill the heap, or build a string so large that V8 aborts
 * the whole OS process: a worker thread dies with its parent then, a child process does not.
 * So transforms run in a pool of warm child processes, each with a capped heap and one
 * transform at a time; one that misses its deadline is killed, and a dead one is replaced.
 */
import { OnApplicationShutdown } from '@nestjs/common';
import { ChildProcess, fork } from 'node:child_process';
import { extname, join } from 'node:path';
import { TransformError, TransformLimits } from '../policies/payload-transform';
import type { SandboxMessage, SandboxRequest } from './transform-sandbox.child';

/**
 * JSONata checks the time budget itself between steps and answers in time; the sandbox is
 * killed only when it has not answered this long after the budget (stuck in one call).
 */
export const HARD_DEADLINE_GRACE_MS = 200;
/** A sandbox not ready after this long is killed, and the runs waiting fail. */
const START_TIMEOUT_MS = 30_000;
const STDERR_TAIL_CHARS = 4096;

// Beside this file, whether it runs compiled (.js) or from source under the tests (.ts).
const CHILD_MODULE = join(__dirname, `transform-sandbox.child${extname(__filename)}`);

export interface TransformSandboxOptions {
  /** Sandboxes at most, each running one transform at a time. Started when first needed. */
  size: number;
  /** V8 old-space cap of each sandbox, in MB. */
  heapMb: number;
}

/** The router could not run a transform at all (shut down, or no sandbox would start). */
export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
}

interface PendingRun {
  request: SandboxRequest;
  resolve(body: string): void;
  reject(error: Error): void;
}

export class TransformSandboxPool implements OnApplicationShutdown {
  private readonly sandboxes = new Set<Sandbox>();
  private readonly idle: Sandbox[] = [];
  private readonly waiting: PendingRun[] = [];
  private nextId = 1;
  private closing: Promise<void> | undefined;
  private startedCount = 0;

  constructor(readonly options: TransformSandboxOptions) {}

  /** Sandboxes alive or starting. */
  get size(): number {
    return this.sandboxes.size;
  }

  /** Sandboxes started since the pool was made: more than `size` means some were killed. */
  get started(): number {
    return this.startedCount;
  }

  /**
   * The body the expression makes of the canonical event (JSON text), computed in a sandbox.
   * Rejects with a TransformError for anything the transform did, SandboxUnavailableError else.
   */
  run(expression: string, input: string, limits: TransformLimits): Promise<string> {
    if (this.closing) {
      return Promise.reject(new SandboxUnavailableError('transform sandboxes are shut down'));
    }
    return new Promise((resolve, reject) => {
      const request = { id: this.nextId++, expression, input, limits };
      this.waiting.push({ request, resolve, reject });
      this.dispatch();
    });
  }

  /** After the queue workers closed (see gracefulClose): no job is using a sandbox any more. */
  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  /** Fails what waits, stops every sandbox and resolves once all have exited. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const run of this.waiting.splice(0)) {
        run.reject(new SandboxUnavailableError('transform sandboxes are shut down'));
      }
      await Promise.all([...this.sandboxes].map((sandbox) => sandbox.stop()));
    })();
    return this.closing;
  }

  private dispatch(): void {
    while (this.waiting.length > 0 && this.idle.length > 0) {
      this.idle.pop()!.start(this.waiting.shift()!);
    }
    const starting = [...this.sandboxes].filter((sandbox) => !sandbox.ready).length;
    let wanted = Math.min(this.waiting.length - starting, this.options.size - this.sandboxes.size);
    for (; wanted > 0; wanted--) this.spawn();
  }

  private spawn(): void {
    const sandbox = new Sandbox(this.options.heapMb, {
      onIdle: () => {
        this.idle.push(sandbox);
        this.dispatch();
      },
      onGone: (startFailure) => this.forget(sandbox, startFailure),
    });
    this.sandboxes.add(sandbox);
    this.startedCount += 1;
  }

  /**
   * A dead sandbox is replaced at once. One that never started fails what waits instead: another
   * would most likely fail too, and the jobs are retried with a backoff.
   */
  private forget(sandbox: Sandbox, startFailure: string | null): void {
    this.sandboxes.delete(sandbox);
    const index = this.idle.indexOf(sandbox);
    if (index >= 0) this.idle.splice(index, 1);
    if (this.closing) return;
    if (startFailure === null) {
      this.spawn();
      this.dispatch();
      return;
    }
    for (const run of this.waiting.splice(0)) {
      run.reject(new SandboxUnavailableError(`transform sandbox did not start: ${startFailure}`));
    }
  }
}

interface SandboxEvents {
  /** Ready for a run: after starting, and after each answer. */
  onIdle(): void;
  /** Exited (or killed); `startFailure` says why when it never became ready. */
  onGone(startFailure: string | null): void;
}

/** One child process and the run it is doing. */
class Sandbox {
  ready = false;
  private readonly child: ChildProcess;
  private current: { run: PendingRun; deadline: NodeJS.Timeout } | null = null;
  private stderr = '';
  private readonly startTimer: NodeJS.Timeout;
  private readonly closed: Promise<void>;

  constructor(
    private readonly heapMb: number,
    private readonly events: SandboxEvents,
  ) {
    this.child = fork(CHILD_MODULE, [], {
      execArgv: [`--max-old-space-size=${heapMb}`],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS);
    });
    this.child.on('message', (message: SandboxMessage) => this.received(message));
    // An IPC write to a child that just died: its exit tells what happened.
    this.child.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.exited(code, signal);
        resolve();
      });
    });
    this.startTimer = setTimeout(() => this.child.kill('SIGKILL'), START_TIMEOUT_MS);
  }

  start(run: PendingRun): void {
    const { timeoutMs } = run.request.limits;
    const deadline = setTimeout(() => {
      this.kill(new TransformError(`transform timed out after ${timeoutMs} ms`, 'timeout'));
    }, timeoutMs + HARD_DEADLINE_GRACE_MS);
    this.current = { run, deadline };
    this.child.send(run.request);
  }

  async stop(): Promise<void> {
    this.kill(new SandboxUnavailableError('transform sandboxes are shut down'));
    await this.closed;
  }

  private kill(reason: Error): void {
    if (this.current) this.settle((run) => run.reject(reason));
    this.child.kill('SIGKILL');
  }

  private received(message: SandboxMessage): void {
    if ('ready' in message) {
      clearTimeout(this.startTimer);
      this.ready = true;
      this.events.onIdle();
      return;
    }
    if (this.current?.run.request.id !== message.id) return;
    this.settle((run) =>
      'body' in message
        ? run.resolve(message.body)
        : run.reject(new TransformError(message.error.message, message.error.reason)),
    );
    this.events.onIdle();
  }

  private settle(answer: (run: PendingRun) => void): void {
    const { run, deadline } = this.current!;
    clearTimeout(deadline);
    this.current = null;
    answer(run);
  }

  /** After the child exited and its stderr closed: the run it held failed because of it. */
  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(this.startTimer);
    if (this.current) this.settle((run) => run.reject(this.deathCause(code, signal)));
    const startFailure = this.ready
      ? null
      : (this.stderr
          .split('\n')
          .find((line) => /error|fatal/i.test(line))
          ?.trim() ?? exitDescription(code, signal));
    this.events.onGone(startFailure);
  }

  private deathCause(code: number | null, signal: NodeJS.Signals | null): TransformError {
    if (/invalid size error/i.test(this.stderr)) {
      return new TransformError('transform built a value larger than V8 can hold', 'memory');
    }
    if (/heap out of memory|heap limit/i.test(this.stderr)) {
      return new TransformError(`transform needed more than its ${this.heapMb} MB heap`, 'memory');
    }
    return new TransformError(
      `transform sandbox died while it ran (${exitDescription(code, signal)})`,
      'crashed',
    );
  }
}

function exitDescription(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `exit code ${code}`;
}
