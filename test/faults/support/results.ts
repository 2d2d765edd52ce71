import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Accounting } from './accounting';

export interface ScenarioResult {
  scenario: string;
  description: string;
  settled: boolean;
  settleMs: number;
  durationMs: number;
  accounting: Accounting;
  /** 200s answered entirely while the queue was down (scenarios that stop it): must be 0. */
  acknowledgedDuringOutage: number | null;
  /** Sent during the outage and answered 200 only once it was over (held, not refused). */
  heldThroughOutage: number | null;
  /** What the scenario observed beyond the accounting (fault windows, timings…). */
  notes: Record<string, unknown>;
  /** The tail of the API's and the last worker's output. */
  processOutput: Record<string, string>;
}

const RESULTS_DIR = join(__dirname, '..', 'results');

/** The per-scenario table, one row per scenario. */
export function formatTable(results: ScenarioResult[]): string {
  const header = [
    'scenario',
    'sent',
    'ack',
    'stored',
    'lost',
    'refused',
    'refusedStored',
    'otherAns',
    'dlv ok',
    'dlv dead',
    'dlv other',
    'dlv missing',
    'unconfirmed',
    'duplicates',
    'reordered',
    'ackInOutage',
    'heldThrough',
    'settle s',
    'total s',
  ];
  const rows = results.map((result) => {
    const { scenario, accounting: a, settleMs, durationMs } = result;
    return [
      scenario,
      a.sent,
      a.acknowledged,
      a.stored,
      a.lost,
      a.refused,
      a.refusedStored,
      a.otherAnswers,
      a.deliveries.succeeded,
      a.deliveries.dead,
      a.deliveries.other,
      a.deliveries.missing,
      a.unconfirmed,
      a.duplicates,
      Object.keys(a.ordering).length > 0 ? a.reordered : '-',
      result.acknowledgedDuringOutage ?? '-',
      result.heldThroughOutage ?? '-',
      (settleMs / 1000).toFixed(1),
      (durationMs / 1000).toFixed(1),
    ];
  });
  const table = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, column) => Math.max(...table.map((row) => row[column].length)));
  const line = (row: string[]) =>
    row.map((cell, column) => cell.padStart(widths[column])).join(' | ');
  return [
    line(table[0]),
    widths.map((width) => '-'.repeat(width)).join('-+-'),
    ...table.slice(1).map(line),
  ].join('\n');
}

/** Writes the run as JSON (results/faults-<time>.json and results/latest.json); returns the path. */
export function writeResults(results: ScenarioResult[], runtimeMs: number): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const report = JSON.stringify(
    { finishedAt: new Date().toISOString(), runtimeMs, results },
    null,
    2,
  );
  const path = join(RESULTS_DIR, `faults-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${report}\n`);
  writeFileSync(join(RESULTS_DIR, 'latest.json'), `${report}\n`);
  return path;
}
