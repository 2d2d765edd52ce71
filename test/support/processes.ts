import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';

/** The repository root, whether this file runs from test/support or compiled under bench/dist. */
export const PROJECT_ROOT = projectRootAbove(__dirname);

function projectRootAbove(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

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

/** A port nothing listens on: bound once, then released. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

export interface ManagedProcessOptions {
  /** The executable; node itself when left out. */
  command?: string;
  args: string[];
  cwd?: string;
  env: Record<string, string>;
  /** Send stdout straight to this file instead of keeping it (the bench's JSON logs). */
  logFile?: string;
  /** How much output to keep: enough to explain a failure, bounded under log storms. */
  outputTailChars?: number;
  /** What `stop()` sends unless told otherwise. */
  stopSignal?: NodeJS.Signals;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What says a process is ready: a line in its output, or a check of its own. */
export type Readiness = RegExp | ((output: string) => boolean | Promise<boolean>);

const DEFAULT_OUTPUT_TAIL_CHARS = 64 * 1024;
const DEFAULT_STOP_GRACE_MS = 10_000;
const READY_POLL_MS = 25;

/** Every child still running, so an exiting test or bench process can take them down with it. */
const running = new Set<ManagedProcess>();
let killsOnExit = false;

function track(child: ManagedProcess, exited: Promise<unknown>): void {
  if (running.size === 0 && !killsOnExit) {
    killsOnExit = true;
    process.once('exit', () => {
      for (const each of running) each.killNow();
    });
  }
  running.add(child);
  void exited.then(() => running.delete(child));
}

/**
 * A child process owned by a test, the fault suite or the bench: started in the foreground, its
 * output tail kept for assertions and failures, stopped by signal (SIGKILL after a grace period),
 * and killed by pid when the owner exits, however it exits.
 */
export class ManagedProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<ExitStatus> = Promise.resolve({ code: null, signal: null });
  private tail = '';

  constructor(
    readonly name: string,
    private readonly options: ManagedProcessOptions,
  ) {}

  /** What it wrote (the last `outputTailChars`), its log file's tail first. */
  get output(): string {
    const logFile = this.options.logFile;
    if (!logFile || !existsSync(logFile)) return this.tail;
    return `${readFileSync(logFile, 'utf8').slice(-this.tailChars)}${this.tail}`;
  }

  get pid(): number {
    if (!this.child?.pid) throw new Error(`${this.name} is not running`);
    return this.child.pid;
  }

  get isRunning(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The pids of the processes this one started (a router's transform sandboxes), oldest first. */
  childPids(): number[] {
    if (!this.child?.pid) return [];
    const listed = spawnSync('pgrep', ['-P', String(this.child.pid)], { encoding: 'utf8' });
    return listed.stdout.split('\n').filter(Boolean).map(Number);
  }

  /** Spawns the process and resolves once it is ready; fails with its output if it exits first. */
  async start(ready: Readiness, timeoutMs = 30_000): Promise<void> {
    if (this.isRunning) throw new Error(`${this.name} is already running`);
    this.tail = '';
    const { command = process.execPath, args, cwd, env, logFile } = this.options;
    const stdout = logFile ? openSync(logFile, 'w') : 'pipe';
    const child = spawn(command, args, {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', stdout, 'pipe'],
    });
    if (typeof stdout === 'number') closeSync(stdout);
    this.child = child;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    track(this, this.exited);
    const keep = (chunk: Buffer) => {
      this.tail = (this.tail + chunk.toString()).slice(-this.tailChars);
    };
    child.stdout?.on('data', keep);
    child.stderr!.on('data', keep);
    await this.waitUntilReady(ready, timeoutMs);
  }

  private async waitUntilReady(ready: Readiness, timeoutMs: number): Promise<void> {
    const isReady = typeof ready === 'function' ? ready : (output: string) => ready.test(output);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.isRunning) throw new Error(`${this.name} exited while starting:\n${this.output}`);
      if (
        await Promise.resolve(this.output)
          .then(isReady)
          .catch(() => false)
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output}`);
  }

  /**
   * Sends `signal` and resolves once the process exited, with how; SIGKILL follows if it outlives
   * `graceMs`. Null when it was not running.
   */
  async stop(
    signal: NodeJS.Signals = this.options.stopSignal ?? 'SIGTERM',
    graceMs = DEFAULT_STOP_GRACE_MS,
  ): Promise<ExitStatus | null> {
    const child = this.child;
    if (!child || !this.isRunning) return null;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  killNow(): void {
    if (this.isRunning) this.child!.kill('SIGKILL');
  }

  private get tailChars(): number {
    return this.options.outputTailChars ?? DEFAULT_OUTPUT_TAIL_CHARS;
  }
}

/** Stops every child still running, each with its own stop signal. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((child) => child.stop()));
}

export interface RouterProcessOptions {
  name?: string;
  /** Node flags before the script (a CPU profile preload…). */
  nodeArgs?: string[];
  logFile?: string;
  outputTailChars?: number;
  stopSignal?: NodeJS.Signals;
}

/**
 * The Node flags `npm start`, `npm run start:api` or `npm run start:worker` (package.json) put
 * before dist/main.js for a role: the processes the tests and the bench start run as shipped.
 */
export function startFlagsOf(role: string | undefined): string[] {
  const scripts = (
    JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;
  const script = scripts[!role || role === 'all' ? 'start' : `start:${role}`] ?? '';
  const command = /\bnode((?:\s+--[^\s]+)*)\s+dist\/main\.js/.exec(script);
  if (!command) {
    throw new Error(`package.json: no "node … dist/main.js" in the start script of ${role}`);
  }
  return command[1].split(/\s+/).filter(Boolean);
}

/** A router process (`node dist/main.js`, at info level unless `env` says otherwise). */
export class RouterProcess extends ManagedProcess {
  constructor(env: Record<string, string>, options: RouterProcessOptions = {}) {
    super(options.name ?? `router ${env.APP_ROLE ?? 'all'}`, {
      args: [...startFlagsOf(env.APP_ROLE), ...(options.nodeArgs ?? []), 'dist/main.js'],
      cwd: PROJECT_ROOT,
      // Info level: the ready lines (`… listening on`, `Worker started`) are info logs.
      env: { LOG_LEVEL: 'info', ...env },
      logFile: options.logFile,
      // The e2e specs read every line the router wrote.
      outputTailChars: options.outputTailChars ?? Infinity,
      stopSignal: options.stopSignal,
    });
  }
}
