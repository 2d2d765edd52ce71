import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The project's real-shaped payloads: test/fixtures/<source>/. */
export const FIXTURES_DIR = resolve(__dirname, '../fixtures');

export function fixtureText(source: 'jivo' | 'chatwoot', name: string): string {
  return readFileSync(resolve(FIXTURES_DIR, source, name), 'utf8');
}
