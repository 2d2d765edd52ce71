import { MigrationInterface, QueryRunner } from 'typeorm';

export class SourceEnrichment1763798400000 implements MigrationInterface {
  name = 'SourceEnrichment1763798400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sources
        ADD COLUMN enrichment_url text,
        ADD COLUMN enrichment_timeout_ms int,
        ADD COLUMN enrichment_secret text`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sources
        DROP COLUMN enrichment_url,
        DROP COLUMN enrichment_timeout_ms,
        DROP COLUMN enrichment_secret`);
  }
}
