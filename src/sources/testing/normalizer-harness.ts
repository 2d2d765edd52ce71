import * as fs from 'fs';
import * as path from 'path';
import { buildCanonicalEvent } from '../../canonical/build-event';
import { CanonicalEventBody } from '../../canonical/canonical-event';
import { canonicalEventProblems } from '../../canonical/canonical-event.schema';
import { JsonRecord } from '../../canonical/coerce';
import { SourceNormalizer } from '../source-normalizer';

/** The project's real-shaped payloads: test/fixtures/<source>/. */
export const FIXTURES_ROOT = path.resolve(__dirname, '../../../test/fixtures');

/** A fresh copy of a fixture payload, so a test may edit it. */
export function loadFixture(folder: string, file: string): JsonRecord {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES_ROOT, folder, file), 'utf8')) as JsonRecord;
}

/** What every plug-in spec needs: normalize expecting success, and check the enveloped result. */
export function normalizerHarness(normalizer: SourceNormalizer) {
  const context = { sourceId: 'src_test', kind: normalizer.kind };
  return {
    context,
    normalizeOk(payload: JsonRecord): CanonicalEventBody {
      const result = normalizer.normalize(payload, context);
      if (result.status !== 'ok') throw new Error(`expected ok, got: ${result.reason}`);
      return result.event;
    },
    schemaProblems(body: CanonicalEventBody): string[] {
      return canonicalEventProblems(
        buildCanonicalEvent(body, {
          id: 'evt_test',
          receivedAt: '2026-01-01T00:00:00.000Z',
          source: { kind: normalizer.kind, id: 'src_test', deliveryId: null },
        }),
      );
    },
  };
}
