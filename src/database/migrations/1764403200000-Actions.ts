import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Answering back: actions on conversations with every attempt made, and API keys scoped to
 * actions (for bots that must not read or change the configuration).
 */
export class Actions1764403200000 implements MigrationInterface {
  name = 'Actions1764403200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_keys (
        id text PRIMARY KEY,
        name text NOT NULL,
        scope text NOT NULL,
        source_ids text[] NOT NULL DEFAULT '{}',
        secret_hash bytea NOT NULL,
        hint text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE actions (
        id text PRIMARY KEY,
        conversation_key text NOT NULL,
        conversation_id text,
        source_id text NOT NULL,
        source_kind text NOT NULL,
        kind text NOT NULL,
        request jsonb NOT NULL,
        target jsonb NOT NULL,
        status text NOT NULL,
        next_call integer NOT NULL DEFAULT 0,
        attempts integer NOT NULL DEFAULT 0,
        error text,
        requested_by text NOT NULL,
        idempotency_key text,
        request_hash bytea,
        outcome_event_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      )`);
    await queryRunner.query(
      `CREATE INDEX actions_conversation_key_id_idx ON actions (conversation_key, id)`,
    );
    await queryRunner.query(
      `CREATE INDEX actions_queued_idx ON actions (conversation_key, id) WHERE status = 'queued'`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX actions_idempotency_idx ON actions (requested_by, idempotency_key)
         WHERE idempotency_key IS NOT NULL`,
    );
    await queryRunner.query(`
      CREATE TABLE action_attempts (
        id bigserial PRIMARY KEY,
        action_id text NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
        attempt_number integer NOT NULL,
        call_index integer NOT NULL,
        call text NOT NULL,
        url text NOT NULL,
        status_code integer,
        error text,
        response_excerpt text,
        duration_ms integer NOT NULL,
        started_at timestamptz NOT NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX action_attempts_action_id_idx ON action_attempts (action_id, attempt_number)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE action_attempts`);
    await queryRunner.query(`DROP TABLE actions`);
    await queryRunner.query(`DROP TABLE api_keys`);
  }
}
