import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { sleep } from './stats';

const OUTPUT_TAIL_CHARS = 20_000;
const STOP_GRACE_MS = 10_000;

/** Every child still running, so a crash or Ctrl-C cannot leave one behind. */
const running = new Set<ManagedProcess>();

/**
 * A node child process whose output tail is kept for error messages. With `logFile`, its
 * stdout (the JSON logs) goes straight to that file, so reading it costs the bench nothing.
 */
export class ManagedProcess {
  private output = '';
  private readonly child: ChildProcess;
  private exited: Promise<void>;
  private readonly logFile: string | undefined;

  constructor(
    readonly label: string,
    script: string,
    env: Record<string, string>,
    options: { cwd: string; nodeArgs?: string[]; logFile?: string },
  ) {
    this.logFile = options.logFile;
    const stdout = this.logFile ? openSync(this.logFile, 'w') : 'pipe';
    this.child = spawn(process.execPath, [...(options.nodeArgs ?? []), script], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', stdout, 'pipe'],
    });
    if (typeof stdout === 'number') closeSync(stdout);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    running.add(this);
    void this.exited.then(() => running.delete(this));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get outputTail(): string {
    if (!this.logFile) return this.output;
    const logged = readFileSync(this.logFile, 'utf8').slice(-OUTPUT_TAIL_CHARS);
    return `${logged}${this.output}`;
  }

  /** Polls `isReady` until it is true; fails with the output tail if the process exits first. */
  async waitUntil(isReady: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isRunning) throw new Error(`${this.label} exited early:\n${this.outputTail}`);
      if (await isReady().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(`${this.label} not ready after ${timeoutMs} ms:\n${this.outputTail}`);
  }

  /** SIGINT (lets Nest close and V8 write a CPU profile), then SIGKILL after a grace period. */
  async stop(): Promise<void> {
    if (!this.isRunning) return;
    this.child.kill('SIGINT');
    const killed = await Promise.race([
      this.exited.then(() => false),
      sleep(STOP_GRACE_MS).then(() => true),
    ]);
    if (killed) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  killNow(): void {
    if (this.isRunning) this.child.kill('SIGKILL');
  }
}

/** Stops every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

/** Kills children synchronously when the bench exits by any path (error, signal). */
export function killChildrenOnExit(): void {
  process.on('exit', () => {
    for (const child of running) child.killNow();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping child processes`);
      void stopAll().finally(() => process.exit(130));
    });
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
