import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CONSOLE_BUILD_DIR } from '../../src/console/console-host';

const CONSOLE_SOURCES = resolve(__dirname, '../../console');

/**
 * The console the API serves is what `npm run build` made (CI builds before it tests). Run from
 * a checkout without a build, or with console sources newer than the build, it is built here.
 */
export function ensureConsoleBuilt(): void {
  const index = join(CONSOLE_BUILD_DIR, 'index.html');
  if (existsSync(index) && newestChange(CONSOLE_SOURCES) <= statSync(index).mtimeMs) return;
  execFileSync(
    process.execPath,
    [
      join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js'),
      'build',
      '--config',
      join(CONSOLE_SOURCES, 'vite.config.mjs'),
    ],
    { stdio: 'inherit', cwd: resolve(CONSOLE_SOURCES, '..') },
  );
}

function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}
