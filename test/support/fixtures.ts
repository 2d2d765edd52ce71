import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The shared fixtures live beside the project: ../shared/fixtures. */
export const FIXTURES_DIR = resolve(__dirname, '../../../shared/fixtures');

export function fixtureText(source: 'jivo' | 'chatwoot', name: string): string {
  return readFileSync(resolve(FIXTURES_DIR, source, name), 'utf8');
}
