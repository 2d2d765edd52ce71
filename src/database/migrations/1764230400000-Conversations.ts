import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Conversations and contacts become rows the router keeps: the state of each conversation (one
 * row per canonical `conversation.key`, its messages beside it), the people behind them (a
 * contact per person, an identity per source and native contact id) and the log of how
 * identities joined contacts. Events gain the router's conversation id for the timeline.
 */
export class Conversations1764230400000 implements MigrationInterface {
  name = 'Conversations1764230400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE contacts (
        id text PRIMARY KEY,
        name text,
        email text,
        phone_e164 text,
        last_activity_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX contacts_updated_at_id_idx ON contacts (updated_at DESC, id DESC)`,
    );

    await queryRunner.query(`
      CREATE TABLE contact_identities (
        id text PRIMARY KEY,
        contact_id text NOT NULL REFERENCES contacts (id),
        source_id text NOT NULL,
        source_kind text NOT NULL,
        external_id text NOT NULL,
        name text,
        email text,
        email_normalized text,
        phone text,
        phone_e164 text,
        description text,
        avatar_url text,
        attributes jsonb NOT NULL DEFAULT '{}',
        field_stamps jsonb NOT NULL DEFAULT '{}',
        auto_join boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX contact_identities_source_external_key
         ON contact_identities (source_id, external_id)`,
    );
    await queryRunner.query(
      `CREATE INDEX contact_identities_contact_id_idx ON contact_identities (contact_id)`,
    );
    await queryRunner.query(
      `CREATE INDEX contact_identities_email_idx ON contact_identities (email_normalized)
         WHERE email_normalized IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX contact_identities_phone_idx ON contact_identities (phone_e164)
         WHERE phone_e164 IS NOT NULL`,
    );

    await queryRunner.query(`
      CREATE TABLE contact_links (
        id bigserial PRIMARY KEY,
        contact_id text NOT NULL,
        identity_id text,
        other_contact_id text,
        reason text NOT NULL,
        value text,
        event_id text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX contact_links_contact_id_idx ON contact_links (contact_id, id)`,
    );

    await queryRunner.query(`
      CREATE TABLE conversations (
        id text PRIMARY KEY,
        key text NOT NULL,
        source_id text NOT NULL,
        source_kind text NOT NULL,
        external_id text NOT NULL,
        contact_id text REFERENCES contacts (id),
        contact_identity_id text REFERENCES contact_identities (id),
        contact_external_id text,
        status text NOT NULL DEFAULT 'unknown',
        channel_type text,
        channel jsonb,
        team jsonb,
        assignee jsonb,
        assignee_external_id text,
        agents jsonb NOT NULL DEFAULT '[]',
        labels text[] NOT NULL DEFAULT '{}',
        rating text,
        attributes jsonb NOT NULL DEFAULT '{}',
        started_at timestamptz,
        ended_at timestamptz,
        first_activity_at timestamptz,
        last_activity_at timestamptz,
        messages_inbound int NOT NULL DEFAULT 0,
        messages_outbound int NOT NULL DEFAULT 0,
        messages_internal int NOT NULL DEFAULT 0,
        last_message jsonb,
        field_stamps jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX conversations_key_key ON conversations (key)`);
    await queryRunner.query(
      `CREATE INDEX conversations_activity_idx
         ON conversations (last_activity_at DESC NULLS LAST, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX conversations_contact_activity_idx
         ON conversations (contact_id, last_activity_at DESC NULLS LAST, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX conversations_source_activity_idx
         ON conversations (source_id, last_activity_at DESC NULLS LAST, id DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX conversations_labels_idx ON conversations USING gin (labels)`,
    );
    await queryRunner.query(
      `CREATE INDEX conversations_contact_identity_idx ON conversations (contact_identity_id)`,
    );

    await queryRunner.query(`
      CREATE TABLE conversation_messages (
        conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        external_id text NOT NULL,
        direction text,
        kind text,
        text text,
        attachments jsonb NOT NULL DEFAULT '[]',
        sender jsonb,
        created_at timestamptz,
        private boolean NOT NULL DEFAULT false,
        deleted boolean NOT NULL DEFAULT false,
        status text,
        field_stamps jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (conversation_id, external_id)
      )`);

    await queryRunner.query(`ALTER TABLE events ADD COLUMN conversation_id text`);
    await queryRunner.query(
      `CREATE INDEX events_conversation_id_occurred_idx
         ON events (conversation_id, occurred_at, id) WHERE conversation_id IS NOT NULL`,
    );

    await queryRunner.query(`
      CREATE TABLE retention_horizon (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        events_purged_before timestamptz NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE retention_horizon`);
    await queryRunner.query(`DROP INDEX events_conversation_id_occurred_idx`);
    await queryRunner.query(`ALTER TABLE events DROP COLUMN conversation_id`);
    await queryRunner.query(`DROP TABLE conversation_messages`);
    await queryRunner.query(`DROP TABLE conversations`);
    await queryRunner.query(`DROP TABLE contact_links`);
    await queryRunner.query(`DROP TABLE contact_identities`);
    await queryRunner.query(`DROP TABLE contacts`);
  }
}
