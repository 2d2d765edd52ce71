import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { runMigrations } from '../../src/database/migrate';
import { emptyIdentityState, mergeIdentity } from '../../src/conversations/contact-identity';
import { ContactsRepository } from '../../src/conversations/contacts.repository';
import { ConversationsRepository } from '../../src/conversations/conversations.repository';
import { testSettings } from '../support/test-settings';

/**
 * The conversation read is a prepared statement, and each pool connection keeps the generic
 * plan Postgres made for it: made while the tables were small, a plan that hashes a whole
 * table would scan it at every read after, as the tables grow (with autovacuum off, forever).
 * Each lookup must stay an index probe whatever the tables held when it was planned.
 */
describe('the conversation read under a generic plan', () => {
  const dataSource = new DataSource({
    ...dataSourceOptions(testSettings()),
    entities: [],
    // One connection, so the statement it prepares is the one explained; always generic.
    extra: { max: 1, options: '-c plan_cache_mode=force_generic_plan' },
  });
  const conversations = new ConversationsRepository(dataSource);
  const contacts = new ContactsRepository(dataSource);

  beforeAll(async () => {
    await runMigrations(testSettings());
    await dataSource.initialize();
  });
  afterAll(() => dataSource.destroy());

  // The first try plans new conversations (the events' statement inserts them); a second try
  // inserts them with the read.
  it.each([
    ['plans', true, 'NOT LIKE'],
    ['inserts', false, 'LIKE'],
  ])(
    'probes the indexes of conversations and identities, planned on small tables (a read that %s new conversations)',
    async (_, planMissing, inserting) => {
      const run = `plan-${Date.now()}`;
      const input = {
        sourceId: `${run}-src`,
        sourceKind: 'jivo',
        externalId: `${run}-visitor`,
        fields: { email: `${run}@example.com`, emailNormalized: `${run}@example.com` },
        stamp: ['2026-11-25T00:00:00.000Z', 'evt_probe'] as [string, string],
        eventId: 'evt_probe',
      };
      const state = mergeIdentity(emptyIdentityState(), input).state;
      const read = contacts.identitiesWithSharingPart([input], [state], 'both', [
        { idx: 0, identityId: `cti_${run}`, contactId: `ct_${run}`, input, state },
      ]);
      const chat = {
        key: `${run}:chat`,
        sourceId: input.sourceId,
        sourceKind: 'jivo',
        externalId: 'chat',
        messageIds: [],
      };
      await conversations.snapshotsOfKeys([chat], read, planMissing);
      // The statement as this connection prepared it, run again with the same kind of values.
      const [{ name, types }] = (await dataSource.query(
        `SELECT name, parameter_types::text[] AS types FROM pg_prepared_statements
        WHERE name LIKE 'wr\\_%' AND statement LIKE '%FROM input%'
          AND statement ${inserting} '%INSERT INTO conversations%'`,
      )) as { name: string; types: string[] }[];
      const values = [
        ['conv_probe'],
        [`${run}:other`],
        [chat.sourceId],
        ['jivo'],
        ['other'],
        ['[]'],
        ...read.params,
      ];
      let plan = '';
      const rolledBack = dataSource.transaction(async (manager) => {
        // Tables of a few hundred rows, as a router's are in its first minutes, with their
        // statistics (ANALYZE makes the connection plan the statement again). Rolled back.
        await manager.query(
          `INSERT INTO contacts (id) SELECT 'ct_' || $1 || n FROM generate_series(1, 400) n`,
          [run],
        );
        await manager.query(
          `INSERT INTO contact_identities (id, contact_id, source_id, source_kind, external_id,
                                         email, email_normalized)
         SELECT 'cti_' || $1 || n, 'ct_' || $1 || n, $1 || '-src', 'jivo', 'v' || n,
                $1 || n || '@example.com', $1 || n || '@example.com'
           FROM generate_series(1, 400) n`,
          [run],
        );
        await manager.query(
          `INSERT INTO conversations (id, key, source_id, source_kind, external_id)
         SELECT 'conv_' || $1 || n, $1 || ':' || n, $1 || '-src', 'jivo', n::text
           FROM generate_series(1, 400) n`,
          [run],
        );
        await manager.query(`ANALYZE contacts, contact_identities, conversations`);
        // EXPLAIN EXECUTE takes no parameters: each value goes as a literal of its type.
        const args: string[] = [];
        for (const [index, type] of types.entries()) {
          const [{ literal }] = (await manager.query(
            `SELECT quote_literal($1::${type}::text) AS literal`,
            [values[index]],
          )) as { literal: string }[];
          args.push(`${literal}::${type}`);
        }
        const rows = (await manager.query(`EXPLAIN EXECUTE ${name}(${args.join(', ')})`)) as {
          'QUERY PLAN': string;
        }[];
        plan = rows.map((row) => row['QUERY PLAN']).join('\n');
        throw new Error('roll back');
      });
      await expect(rolledBack).rejects.toThrow('roll back');

      await dataSource.query(`DELETE FROM contact_links WHERE contact_id = $1`, [`ct_${run}`]);
      await dataSource.query(`DELETE FROM contact_identities WHERE id = $1`, [`cti_${run}`]);
      await dataSource.query(`DELETE FROM contacts WHERE id = $1`, [`ct_${run}`]);
      await dataSource.query(`DELETE FROM conversations WHERE key = $1`, [chat.key]);

      expect(plan).toContain('conversations_key_key');
      expect(plan).toContain('contact_identities_source_external_key');
      expect(plan).not.toMatch(/Seq Scan on (conversations|contact_identities|contacts)\b/);
    },
  );
});
