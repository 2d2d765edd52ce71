import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Ordered delivery per conversation: a subscription's `ordering` and `on_dead`; a delivery's lane
 * (its conversation key, null when not ordered), its place in the lane (`lane_at`: when the
 * router accepted its webhook, or when an operator put it back), and the note a release leaves.
 */
export class OrderedDelivery1764316800000 implements MigrationInterface {
  name = 'OrderedDelivery1764316800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE subscriptions
        ADD COLUMN ordering text NOT NULL DEFAULT 'none',
        ADD COLUMN on_dead text NOT NULL DEFAULT 'release'`);
    await queryRunner.query(`
      ALTER TABLE deliveries
        ADD COLUMN lane_key text,
        ADD COLUMN lane_at timestamptz,
        ADD COLUMN ordering_note text`);
    // The unfinished members of each lane, in lane order: finding a lane's head, and whether it
    // has one in flight, reads only this.
    await queryRunner.query(`
      CREATE INDEX deliveries_lane_idx ON deliveries (subscription_id, lane_key, lane_at, event_id, id)
       WHERE lane_key IS NOT NULL AND status IN ('held', 'pending', 'failed', 'blocked')`);
    // The held ones by age: the metrics' count and oldest, and the lane sweep.
    await queryRunner.query(
      `CREATE INDEX deliveries_held_idx ON deliveries (lane_at) WHERE status = 'held'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX deliveries_held_idx`);
    await queryRunner.query(`DROP INDEX deliveries_lane_idx`);
    await queryRunner.query(
      `UPDATE deliveries SET status = 'pending' WHERE status IN ('held', 'blocked')`,
    );
    await queryRunner.query(`
      ALTER TABLE deliveries DROP COLUMN lane_key, DROP COLUMN lane_at, DROP COLUMN ordering_note`);
    await queryRunner.query(`ALTER TABLE subscriptions DROP COLUMN ordering, DROP COLUMN on_dead`);
  }
}
