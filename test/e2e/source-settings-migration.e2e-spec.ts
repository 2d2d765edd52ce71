import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { MIGRATIONS } from '../../src/database/entities';
import { ensureDatabaseExists } from '../../src/database/migrate';
import { SourceSettings1764144000000 } from '../../src/database/migrations/1764144000000-SourceSettings';
import { TEST_DATABASE_URL, testSettings } from '../support/test-settings';

/** The migration that moves the sources' setting columns into `settings`, up and down. */
describe('migration SourceSettings', () => {
  const name = `webhook_router_settings_${randomBytes(4).toString('hex')}`;
  const url = TEST_DATABASE_URL.replace(/\/[^/]+$/, `/${name}`);
  const upTo = MIGRATIONS.indexOf(SourceSettings1764144000000);

  function dataSource(migrations: typeof MIGRATIONS): DataSource {
    return new DataSource({
      ...dataSourceOptions(testSettings({ DATABASE_URL: url })),
      migrations,
    });
  }

  afterAll(async () => {
    const admin = new Client({
      connectionString: TEST_DATABASE_URL.replace(/\/[^/]+$/, '/postgres'),
    });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  });

  it('moves every column into the JSON, leaving defaults out, and back', async () => {
    await ensureDatabaseExists(url);
    const before = dataSource(MIGRATIONS.slice(0, upTo));
    await before.initialize();
    await before.runMigrations();
    await before.query(`
      INSERT INTO sources (id, kind, name, token_hash, token_hint, signing_secret,
        signature_header_prefix, allowed_channel_ids, enrichment_url, enrichment_timeout_ms,
        enrichment_secret)
      VALUES
        ('src_1', 'chatwoot', 'C', '\\x00', 'abcd', 'shh', 'X-Konversio', '{}', NULL, NULL, NULL),
        ('src_2', 'jivo', 'J', '\\x01', 'efgh', NULL, NULL, '{3948,4120}',
          'https://crm.example.com/enrich', 1500, 'whsec_x'),
        ('src_3', 'jivo-bot', 'B', '\\x02', 'ijkl', NULL, NULL, '{}', NULL, NULL, NULL)`);
    await before.destroy();

    const after = dataSource(MIGRATIONS.slice(0, upTo + 1));
    await after.initialize();
    await after.runMigrations();
    expect(await after.query('SELECT id, settings FROM sources ORDER BY id')).toEqual([
      { id: 'src_1', settings: { signingSecret: 'shh', signatureHeaderPrefix: 'X-Konversio' } },
      {
        id: 'src_2',
        settings: {
          allowedChannelIds: ['3948', '4120'],
          enrichmentUrl: 'https://crm.example.com/enrich',
          enrichmentTimeoutMs: 1500,
          enrichmentSecret: 'whsec_x',
        },
      },
      { id: 'src_3', settings: {} },
    ]);

    await after.undoLastMigration();
    expect(
      await after.query(`
        SELECT id, signing_secret, signature_header_prefix, allowed_channel_ids, enrichment_url,
          enrichment_timeout_ms, enrichment_secret
        FROM sources ORDER BY id`),
    ).toEqual([
      {
        id: 'src_1',
        signing_secret: 'shh',
        signature_header_prefix: 'X-Konversio',
        allowed_channel_ids: [],
        enrichment_url: null,
        enrichment_timeout_ms: null,
        enrichment_secret: null,
      },
      {
        id: 'src_2',
        signing_secret: null,
        signature_header_prefix: null,
        allowed_channel_ids: ['3948', '4120'],
        enrichment_url: 'https://crm.example.com/enrich',
        enrichment_timeout_ms: 1500,
        enrichment_secret: 'whsec_x',
      },
      {
        id: 'src_3',
        signing_secret: null,
        signature_header_prefix: null,
        allowed_channel_ids: [],
        enrichment_url: null,
        enrichment_timeout_ms: null,
        enrichment_secret: null,
      },
    ]);
    await after.destroy();
  });
});
