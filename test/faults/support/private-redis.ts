import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ManagedProcess } from '../../support/processes';

/**
 * A redis-server of our own (never the machine's shared one), on a spare port, persisting to a
 * temporary directory so it can be crashed and restarted with its data.
 *
 * `appendfsync always`: the router answers 200 once BullMQ's `add` returns, and the contract is
 * that a 200 means "durably queued". With `always`, Redis fsyncs the AOF before it replies, so an
 * acknowledged job survives a crash of Redis or of the host. `everysec` acknowledges writes that
 * a host crash or power loss may take with it (up to about a second of them), which is the
 * usual production trade-off but not what a 200 promises. (A process kill alone cannot tell the
 * two apart: Redis writes the AOF before replying in both modes; only the fsync differs.)
 */
export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'wr-faults-redis-'));
  private port = 0;
  private server: ManagedProcess | null = null;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.port === 0) this.port = await freePort();
    this.server = new ManagedProcess('redis-server', {
      command: 'redis-server',
      args: [
        ...['--port', String(this.port), '--bind', '127.0.0.1'],
        ...['--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''],
        ...['--daemonize', 'no', '--logfile', ''],
      ],
      env: {},
    });
    await this.server.start((output) => /Ready to accept connections/.test(output));
  }

  /** A crash: SIGKILL, no chance to flush anything that was not already on disk. */
  async crash(): Promise<void> {
    await this.server?.stop('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.server?.stop('SIGTERM');
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
