import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A source's kind-specific settings move from their own columns into one `settings` jsonb,
 * whose shape the kind's plug-in declares. A column at its default (null, an empty list) is
 * left out of the JSON, which reads as the default.
 */
export class SourceSettings1764144000000 implements MigrationInterface {
  name = 'SourceSettings1764144000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE sources ADD COLUMN settings jsonb NOT NULL DEFAULT '{}'::jsonb`,
    );
    await queryRunner.query(`
      UPDATE sources SET settings = jsonb_strip_nulls(jsonb_build_object(
        'signingSecret', signing_secret,
        'signatureHeaderPrefix', signature_header_prefix,
        'allowedChannelIds',
          CASE WHEN cardinality(allowed_channel_ids) > 0 THEN to_jsonb(allowed_channel_ids) END,
        'enrichmentUrl', enrichment_url,
        'enrichmentTimeoutMs', enrichment_timeout_ms,
        'enrichmentSecret', enrichment_secret
      ))`);
    await queryRunner.query(`
      ALTER TABLE sources
        DROP COLUMN signing_secret,
        DROP COLUMN signature_header_prefix,
        DROP COLUMN allowed_channel_ids,
        DROP COLUMN enrichment_url,
        DROP COLUMN enrichment_timeout_ms,
        DROP COLUMN enrichment_secret`);
  }

  /** Settings of kinds added since (none of these six) are dropped with the column. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE sources
        ADD COLUMN signing_secret text,
        ADD COLUMN signature_header_prefix text,
        ADD COLUMN allowed_channel_ids text[] NOT NULL DEFAULT '{}',
        ADD COLUMN enrichment_url text,
        ADD COLUMN enrichment_timeout_ms int,
        ADD COLUMN enrichment_secret text`);
    await queryRunner.query(`
      UPDATE sources SET
        signing_secret = settings->>'signingSecret',
        signature_header_prefix = settings->>'signatureHeaderPrefix',
        allowed_channel_ids = CASE
          WHEN jsonb_typeof(settings->'allowedChannelIds') = 'array'
          THEN ARRAY(SELECT jsonb_array_elements_text(settings->'allowedChannelIds'))
          ELSE '{}'
        END,
        enrichment_url = settings->>'enrichmentUrl',
        enrichment_timeout_ms = (settings->>'enrichmentTimeoutMs')::int,
        enrichment_secret = settings->>'enrichmentSecret'`);
    await queryRunner.query(`ALTER TABLE sources DROP COLUMN settings`);
  }
}
