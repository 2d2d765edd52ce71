import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { waitFor } from './wait-for';

export const PROJECT_ROOT = resolve(__dirname, '../..');

/** Compiles src/ to dist/ so the test runs what `npm start` runs. */
export function buildProject(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
  });
}

/** Running: a zombie has exited, whether or not anyone reaped it yet. */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

/** A router process (`node dist/main.js`) whose output is kept for assertions and failures. */
export class RouterProcess {
  output = '';
  private child: ChildProcess | null = null;

  constructor(private readonly env: Record<string, string>) {}

  /** The pids of the processes this one started (its transform sandboxes), oldest first. */
  childPids(): number[] {
    if (!this.child?.pid) return [];
    const listed = spawnSync('pgrep', ['-P', String(this.child.pid)], { encoding: 'utf8' });
    return listed.stdout.split('\n').filter(Boolean).map(Number);
  }

  async start(readyLine: RegExp): Promise<void> {
    this.output = '';
    this.child = spawn(process.execPath, ['dist/main.js'], {
      cwd: PROJECT_ROOT,
      // Info level: the ready lines (`… listening on`, `Worker started`) are info logs.
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    await waitFor(() => {
      if (this.child?.exitCode !== null) {
        throw new Error(`process exited early:\n${this.output}`);
      }
      return readyLine.test(this.output);
    }, 30_000);
  }

  /** Signals the process and resolves once it exited, with how. */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return null;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, exitSignal) => done({ code, signal: exitSignal })),
    );
    child.kill(signal);
    const exit = await exited;
    this.child = null;
    return exit;
  }
}
