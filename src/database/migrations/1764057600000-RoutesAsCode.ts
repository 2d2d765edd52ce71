import { MigrationInterface, QueryRunner } from 'typeorm';

/** Sources and subscriptions declared in the routes file carry its key (routes as code). */
export class RoutesAsCode1764057600000 implements MigrationInterface {
  name = 'RoutesAsCode1764057600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE sources ADD COLUMN routes_key text`);
    await queryRunner.query(`ALTER TABLE subscriptions ADD COLUMN routes_key text`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX sources_routes_key_key ON sources (routes_key) WHERE routes_key IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX subscriptions_routes_key_key ON subscriptions (routes_key) WHERE routes_key IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX subscriptions_routes_key_key`);
    await queryRunner.query(`DROP INDEX sources_routes_key_key`);
    await queryRunner.query(`ALTER TABLE subscriptions DROP COLUMN routes_key`);
    await queryRunner.query(`ALTER TABLE sources DROP COLUMN routes_key`);
  }
}
