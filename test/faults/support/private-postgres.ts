import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../support/processes';

/** The server binaries: PG_BIN, else the newest Debian install (/usr/lib/postgresql/<n>/bin). */
const PG_BIN = process.env.PG_BIN ?? debianPostgresBin();

function debianPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(`No PostgreSQL server binaries under ${root}; set PG_BIN to their directory`);
  }
  return join(root, versions[0], 'bin');
}

/** Clusters still running, stopped at once if the test process exits before it cleans up. */
const running = new Set<PrivatePostgres>();

process.once('exit', () => {
  for (const cluster of running) cluster.stopSync('immediate');
});

/**
 * A Postgres cluster of our own (never the machine's shared one) in a temporary directory, on a
 * spare port, so it can be stopped and started mid-load. We run as root, so every Postgres
 * binary runs as the postgres user.
 */
export class PrivatePostgres {
  readonly dir = mkdtempSync(join(tmpdir(), 'wr-faults-pg-'));
  private port = 0;

  /** The router's database on this cluster; the router creates it on first start. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/webhook_router`;
  }

  async init(): Promise<void> {
    this.port = await freePort();
    const { uid, gid } = postgresUser();
    chownSync(this.dir, uid, gid);
    this.pg('initdb', '-D', join(this.dir, 'data'), '--auth=trust', '--no-sync');
  }

  start(): void {
    this.pg(
      ...['pg_ctl', '-D', join(this.dir, 'data'), '-l', join(this.dir, 'postgres.log')],
      ...['-o', `-p ${this.port} -k /tmp`, '-w', 'start'],
    );
    running.add(this);
  }

  /** `-m fast`: clients are disconnected and open transactions rolled back, as in a restart. */
  stop(): void {
    this.stopSync('fast');
  }

  stopSync(mode: 'fast' | 'immediate'): void {
    running.delete(this);
    if (!existsSync(join(this.dir, 'data', 'postmaster.pid'))) return;
    this.pg('pg_ctl', '-D', join(this.dir, 'data'), '-m', mode, '-w', 'stop');
  }

  destroy(): void {
    this.stopSync('fast');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private pg(binary: string, ...args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BIN, binary), ...args], {
      stdio: 'pipe',
      timeout: 60_000,
    });
  }
}

function postgresUser(): { uid: number; gid: number } {
  const [uid, gid] = ['-u', '-g'].map((flag) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()),
  );
  return { uid, gid };
}
