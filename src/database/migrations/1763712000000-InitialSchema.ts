import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1763712000000 implements MigrationInterface {
  name = 'InitialSchema1763712000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE sources (
        id text PRIMARY KEY,
        kind text NOT NULL,
        name text NOT NULL,
        token_hash bytea NOT NULL,
        token_hint text NOT NULL,
        signing_secret text,
        signature_header_prefix text,
        allowed_channel_ids text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE UNIQUE INDEX sources_token_hash_key ON sources (token_hash)`);

    await queryRunner.query(`
      CREATE TABLE subscriptions (
        id text PRIMARY KEY,
        name text NOT NULL,
        url text NOT NULL,
        event_types text[] NOT NULL,
        source_ids text[],
        secret text NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}',
        max_attempts int,
        timeout_ms int,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await queryRunner.query(`
      CREATE TABLE events (
        id text PRIMARY KEY,
        source_id text NOT NULL,
        source_kind text NOT NULL,
        source_event text,
        source_delivery_id text,
        type text,
        status text NOT NULL,
        error text,
        conversation_key text,
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        raw_body text NOT NULL,
        canonical json
      )`);
    await queryRunner.query(`CREATE INDEX events_type_id_idx ON events (type, id)`);
    await queryRunner.query(`CREATE INDEX events_source_id_id_idx ON events (source_id, id)`);
    await queryRunner.query(
      `CREATE INDEX events_conversation_key_id_idx ON events (conversation_key, id)`,
    );
    await queryRunner.query(`CREATE INDEX events_received_at_idx ON events (received_at)`);

    await queryRunner.query(`
      CREATE TABLE deliveries (
        id text PRIMARY KEY,
        event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
        subscription_id text NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'pending',
        attempt_count int NOT NULL DEFAULT 0,
        last_status_code int,
        last_error text,
        completed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX deliveries_event_id_idx ON deliveries (event_id)`);
    await queryRunner.query(
      `CREATE INDEX deliveries_subscription_id_id_idx ON deliveries (subscription_id, id)`,
    );
    await queryRunner.query(`CREATE INDEX deliveries_status_id_idx ON deliveries (status, id)`);

    await queryRunner.query(`
      CREATE TABLE delivery_attempts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
        attempt_number int NOT NULL,
        started_at timestamptz NOT NULL,
        duration_ms int NOT NULL,
        status_code int,
        succeeded boolean NOT NULL,
        error text,
        response_excerpt text
      )`);
    await queryRunner.query(
      `CREATE INDEX delivery_attempts_delivery_id_idx ON delivery_attempts (delivery_id, attempt_number)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE delivery_attempts`);
    await queryRunner.query(`DROP TABLE deliveries`);
    await queryRunner.query(`DROP TABLE events`);
    await queryRunner.query(`DROP TABLE subscriptions`);
    await queryRunner.query(`DROP TABLE sources`);
  }
}
