import { ChildProcess, spawn } from 'node:child_process';
import { waitFor } from '../../support/wait-for';

/** Keeps the tail of a process's output: enough to explain a failure, bounded under log storms. */
const OUTPUT_TAIL_CHARS = 64 * 1024;

/** Every child still running, so an exiting test process can take them down with it. */
const running = new Set<ChildProcess>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface ManagedProcessOptions {
  command: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
}

/**
 * A child process the fault suite owns: started in the foreground, its output tail kept, and
 * killed by pid when the suite ends, however it ends.
 */
export class ManagedProcess {
  private child: ChildProcess | null = null;
  private tail = '';

  constructor(
    readonly name: string,
    private readonly options: ManagedProcessOptions,
  ) {}

  get output(): string {
    return this.tail;
  }

  get isRunning(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process and resolves once `ready` holds; fails if it exits first. */
  async start(ready: (output: string) => boolean | Promise<boolean>, timeoutMs = 30_000) {
    if (this.isRunning) throw new Error(`${this.name} is already running`);
    this.tail = '';
    const child = spawn(this.options.command, this.options.args, {
      cwd: this.options.cwd,
      env: { PATH: process.env.PATH ?? '', ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    const append = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    await waitFor(async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${this.name} exited while starting:\n${this.tail}`);
      }
      return ready(this.tail);
    }, timeoutMs);
  }

  /** Sends `signal` and waits for the exit; SIGKILL follows if the process outlives `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
