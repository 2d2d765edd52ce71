import { MigrationInterface, QueryRunner } from 'typeorm';

/** Subscription filters, transforms, retry and rate policies, secret rotation, auto-disable; delivery runs. */
export class DeliveryPolicies1763884800000 implements MigrationInterface {
  name = 'DeliveryPolicies1763884800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE subscriptions
        ADD COLUMN filter jsonb,
        ADD COLUMN transform text,
        ADD COLUMN payload_format text NOT NULL DEFAULT 'canonical',
        ADD COLUMN retry_schedule real[],
        ADD COLUMN rate_limit_max int,
        ADD COLUMN rate_limit_per_seconds int,
        ADD COLUMN disable_after_dead int,
        ADD COLUMN previous_secret text,
        ADD COLUMN previous_secret_expires_at timestamptz,
        ADD COLUMN consecutive_dead int NOT NULL DEFAULT 0,
        ADD COLUMN disabled_reason text,
        ADD COLUMN disabled_at timestamptz`);
    await queryRunner.query(`
      ALTER TABLE deliveries
        ADD COLUMN run int NOT NULL DEFAULT 0,
        ADD COLUMN run_attempt_base int NOT NULL DEFAULT 0,
        ADD COLUMN next_attempt_at timestamptz`);
    await queryRunner.query(
      `CREATE INDEX deliveries_subscription_id_status_idx ON deliveries (subscription_id, status)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX deliveries_subscription_id_status_idx`);
    await queryRunner.query(`
      ALTER TABLE deliveries
        DROP COLUMN run, DROP COLUMN run_attempt_base, DROP COLUMN next_attempt_at`);
    await queryRunner.query(`
      ALTER TABLE subscriptions
        DROP COLUMN filter, DROP COLUMN transform, DROP COLUMN payload_format,
        DROP COLUMN retry_schedule, DROP COLUMN rate_limit_max, DROP COLUMN rate_limit_per_seconds,
        DROP COLUMN disable_after_dead, DROP COLUMN previous_secret,
        DROP COLUMN previous_secret_expires_at, DROP COLUMN consecutive_dead,
        DROP COLUMN disabled_reason, DROP COLUMN disabled_at`);
  }
}
