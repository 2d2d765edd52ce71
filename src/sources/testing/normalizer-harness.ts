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

/** What every plug-in spec needs: its fixtures, normalize expecting success, the schema check. */
export function normalizerHarness(normalizer: SourceNormalizer, fixtureFolder = normalizer.kind) {
  const context = { sourceId: 'src_test', kind: normalizer.kind };
  const fixture = (file: string) => loadFixture(fixtureFolder, file);
  function normalizeOk(payload: JsonRecord): CanonicalEventBody {
    const result = normalizer.normalize(payload, context);
    if (result.status !== 'ok') throw new Error(`expected ok, got: ${result.reason}`);
    return result.event;
  }
  return {
    normalizer,
    context,
    fixtureFolder,
    fixture,
    /** The fixture with `edit` applied to a fresh copy. */
    variant(file: string, edit: (payload: JsonRecord) => void): JsonRecord {
      const payload = fixture(file);
      edit(payload);
      return payload;
    },
    normalizeOk,
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

export type NormalizerHarness = ReturnType<typeof normalizerHarness>;

/** A fixture file and what it must normalize to at the top level. */
export interface FixtureIdentity {
  file: string;
  type: string;
  sourceEvent: string;
  occurredAt: string | null;
}

// The shared cases below register Jest tests: call them inside a spec (or a describe of one).

/** Each fixture maps to its canonical type, names its source event and time, and passes the schema. */
export function itIdentifiesEachFixture(harness: NormalizerHarness, rows: FixtureIdentity[]) {
  it.each(rows)('$file: a $type from $sourceEvent at $occurredAt, passing the schema', (row) => {
    const event = harness.normalizeOk(harness.fixture(row.file));
    expect(event.type).toBe(row.type);
    expect(event.sourceEvent).toBe(row.sourceEvent);
    expect(event.occurredAt).toBe(row.occurredAt);
    expect(harness.schemaProblems(event)).toEqual([]);
  });
}

/** The spec has a case for every fixture on disk that `owns` picks. */
export function itCoversEveryFixture(
  harness: NormalizerHarness,
  owns: (file: string) => boolean,
  files: string[],
) {
  it(`covers every payload fixture it owns in test/fixtures/${harness.fixtureFolder}`, () => {
    const onDisk = fs.readdirSync(path.join(FIXTURES_ROOT, harness.fixtureFolder)).filter(owns);
    expect(onDisk.sort()).toEqual([...files].sort());
  });
}

/** Payloads the normalizer refuses, each with its reason (a pattern, or the exact text). */
export function itRefusesAsUnprocessable(
  harness: NormalizerHarness,
  cases: [payload: unknown, reason: RegExp | string][],
) {
  it.each(cases)('refuses %p as unprocessable, with a reason', (payload, reason) => {
    const result = harness.normalizer.normalize(payload as JsonRecord, harness.context);
    expect(result).toEqual({
      status: 'unprocessable',
      reason: typeof reason === 'string' ? reason : expect.stringMatching(reason),
    });
  });
}

/** Event names that are keys of every object: an event table must not find them. */
export function itReadsNoEventNameFromThePrototype(
  harness: NormalizerHarness,
  eventField: string,
  alsoEmpty: Partial<CanonicalEventBody>,
) {
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty', ''])(
    'does not read %p from the prototype of the event table',
    (name) => {
      const event = harness.normalizeOk({ [eventField]: name });
      expect(event.type).toBe('source.unknown');
      expect(event).toMatchObject(alsoEmpty);
      expect(harness.schemaProblems(event)).toEqual([]);
    },
  );
}

export function itLeavesThePayloadUntouched(harness: NormalizerHarness, file: string) {
  it('leaves the payload it reads untouched', () => {
    const payload = harness.fixture(file);
    harness.normalizeOk(payload);
    expect(payload).toEqual(harness.fixture(file));
  });
}
