// @ts-check
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The operator console: built into dist/console-app and served by the API role at /console
 * (src/console/console-host.ts). Everything it needs is in the bundle: no CDN, no remote font.
 */
export default defineConfig(({ command }) => {
  // A build is React's production build whatever NODE_ENV the caller had (Jest sets "test").
  if (command === 'build') process.env.NODE_ENV = 'production';
  return config;
});

/** @type {import('vite').UserConfig} */
const config = {
  root,
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console-app', import.meta.url)),
    emptyOutDir: true,
    // The polyfill would be an inline script, which the console's Content-Security-Policy refuses.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 1000,
  },
};
