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

/** Runs pending migrations under an advisory lock, so API and workers may start together. */
export async function runMigrations(settings: Settings): Promise<void> {
  await ensureDatabaseExists(settings.DATABASE_URL);
  const dataSource = new DataSource(dataSourceOptions(settings));
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await runner.release();
    await dataSource.destroy();
  }
}
