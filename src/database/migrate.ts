import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { Settings } from '../config/settings';
import { dataSourceOptions } from './data-source-options';

const MIGRATION_LOCK_ID = 7_403_912_551;

/** Creates the database when it does not exist yet, so a fresh machine needs no manual step. */
export async function ensureDatabaseExists(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!name) return;
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      await client
        .query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`)
        .catch((error: unknown) => {
          // Another process created it between our check and our CREATE: Postgres reports
          // duplicate_database, or a unique violation on pg_database when both raced.
          const code = (error as { code?: string }).code ?? '';
          if (!['42P04', '23505'].includes(code)) throw error;
        });
    }
  } finally {
    await client.end();
  }
}

/**
 * Runs `work` holding the advisory lock of migrations, which routes:apply takes too: two
 * processes starting together never migrate, or apply the routes file, at the same time.
 */
export async function withMigrationLock<T>(settings: Settings, work: () => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: settings.DATABASE_URL });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    return await work();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await client.end();
  }
}

/** Runs pending migrations under an advisory lock, so API and workers may start together. */
export async function runMigrations(settings: Settings): Promise<void> {
  await ensureDatabaseExists(settings.DATABASE_URL);
  await withMigrationLock(settings, async () => {
    const dataSource = new DataSource(dataSourceOptions(settings));
    await dataSource.initialize();
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await dataSource.destroy();
    }
  });
}

/** Whether the database lacks migrations this build has (connecting fails when it does not exist). */
export async function hasPendingMigrations(settings: Settings): Promise<boolean> {
  const dataSource = new DataSource(dataSourceOptions(settings));
  await dataSource.initialize();
  try {
    return await dataSource.showMigrations();
  } finally {
    await dataSource.destroy();
  }
}
