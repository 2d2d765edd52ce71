import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A version per conversation state: the worker reads a state when it resolves an event's ids
 * and writes the next one with the event in one statement, provided the version has not moved.
 */
export class ConversationStateVersion1764230400002 implements MigrationInterface {
  name = 'ConversationStateVersion1764230400002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE conversations ADD COLUMN state_version bigint NOT NULL DEFAULT 0`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE conversations DROP COLUMN state_version`);
  }
}
