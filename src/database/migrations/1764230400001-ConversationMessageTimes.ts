import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A message's earliest sighting: its time when the source gives it no `createdAt`, so the last
 * message of a conversation is the same whatever order its events came in.
 */
export class ConversationMessageTimes1764230400001 implements MigrationInterface {
  name = 'ConversationMessageTimes1764230400001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE conversation_messages ADD COLUMN first_seen_at timestamptz NOT NULL DEFAULT now()`,
    );
    await queryRunner.query(
      `CREATE INDEX conversation_messages_order_idx ON conversation_messages
         (conversation_id, (coalesce(created_at, first_seen_at)) DESC, external_id DESC)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE conversation_messages DROP COLUMN first_seen_at`);
  }
}
