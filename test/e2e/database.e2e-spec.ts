import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { MIGRATIONS } from '../../src/database/entities';
import { ensureDatabaseExists, runMigrations } from '../../src/database/migrate';
import { TEST_DATABASE_URL, testSettings } from '../support/test-settings';

describe('database bootstrap', () => {
  const name = `webhook_router_boot_${randomBytes(4).toString('hex')}`;
  const url = TEST_DATABASE_URL.replace(/\/[^/]+$/, `/${name}`);

  afterAll(async () => {
    const admin = new Client({
      connectionString: TEST_DATABASE_URL.replace(/\/[^/]+$/, '/postgres'),
    });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('creates a missing database and migrates it, with several processes starting at once', async () => {
    await Promise.all([1, 2, 3, 4].map(() => ensureDatabaseExists(url)));
    const settings = testSettings({ DATABASE_URL: url });
    await Promise.all([runMigrations(settings), runMigrations(settings)]);

    const client = new Client({ connectionString: url });
    await client.connect();
    const tables = await client.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    const migrations = await client.query('SELECT name FROM schema_migrations');
    await client.end();
    expect(tables.rows.map((row) => row.table_name)).toEqual([
      'contact_identities',
      'contact_links',
      'contacts',
      'conversation_messages',
      'conversations',
      'deliveries',
      'delivery_attempts',
      'events',
      'retention_horizon',
      'schema_migrations',
      'sources',
      'subscriptions',
    ]);
    expect(migrations.rowCount).toBe(MIGRATIONS.length);
  });
});
