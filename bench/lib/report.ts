import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** bench/, from bench/dist/bench/lib. */
export const BENCH_ROOT = join(__dirname, '..', '..', '..');
export const PROJECT_ROOT = join(BENCH_ROOT, '..');
export const RESULTS_DIR = join(BENCH_ROOT, 'results');

type Cell = string | number | boolean | null | undefined;

function format(cell: Cell): string {
  if (cell === null || cell === undefined) return '—';
  if (typeof cell === 'number') {
    if (Number.isNaN(cell)) return '—';
    return Number.isInteger(cell) ? String(cell) : cell.toFixed(Math.abs(cell) < 10 ? 2 : 1);
  }
  return String(cell);
}

/** Prints an aligned text table, numbers right-aligned. */
export function printTable(title: string, headers: string[], rows: Cell[][]): void {
  const cells = rows.map((row) => row.map(format));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...cells.map((row) => row[column]?.length ?? 0)),
  );
  const numeric = headers.map((_, column) => rows.every((row) => typeof row[column] !== 'string'));
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        numeric[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column]),
      )
      .join('  ');
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  for (const row of cells) console.log(line(row));
}

/** Writes bench/results/<name>.json and returns its path relative to the project. */
export function writeResults(name: string, results: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return relative(PROJECT_ROOT, file);
}

export function verdict(ok: boolean): string {
  return ok ? 'met' : 'MISSED';
}
