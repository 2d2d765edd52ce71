import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const CONSOLE_PATH = '/console';

/**
 * Where `npm run build` puts the console (vite, console/vite.config.mjs): dist/console-app at
 * the package root, whether this file runs compiled (dist/console/…) or from source
 * (src/console/…).
 */
export const CONSOLE_BUILD_DIR = resolve(__dirname, '..', '..', 'dist', 'console-app');

/**
 * Nothing but the console's own files: no inline script or style, no other origin, no framing.
 * Its data comes from the admin API on the same origin.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the operator console at /console: the static files the build made, and index.html for
 * every other path under it, so a deep link (/console/events/evt_…) opens the right page. The
 * files hold no data and need no key; every call the console makes goes through the admin API
 * with the operator's key. A plugin scope of its own: its hooks run for these routes only,
 * never on the webhook route.
 */
export function mountConsole(fastify: FastifyInstance, buildDir = CONSOLE_BUILD_DIR): void {
  const indexFile = join(buildDir, 'index.html');
  void fastify.register(
    async (scope: FastifyInstance) => {
      scope.addHook('onSend', async (_request, reply) => {
        reply.header('Content-Security-Policy', CONSOLE_CONTENT_SECURITY_POLICY);
        reply.header('X-Content-Type-Options', 'nosniff');
        reply.header('Referrer-Policy', 'no-referrer');
      });
      if (!existsSync(indexFile)) {
        scope.get('/*', (_request, reply) => notBuilt(reply));
        scope.get('/', (_request, reply) => notBuilt(reply));
        return;
      }
      const index = readFileSync(indexFile);
      const sendIndex = (reply: FastifyReply) =>
        reply.header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(index);
      // One route per built file (wildcard: false), so an unknown path falls to the page below.
      await scope.register(fastifyStatic, {
        root: buildDir,
        prefix: '/',
        wildcard: false,
        index: false,
        decorateReply: false,
        cacheControl: true,
        maxAge: '365d',
        immutable: true,
        globIgnore: ['index.html'],
      });
      scope.get('/', (_request, reply) => sendIndex(reply));
      scope.get('/*', (request, reply) => {
        // A missing asset is a 404, not the page: the browser would parse HTML as a script.
        if (request.url.startsWith(`${CONSOLE_PATH}/assets/`)) {
          return reply.status(404).send({
            statusCode: 404,
            error: 'not_found',
            message: `${request.url} not found`,
          });
        }
        return sendIndex(reply);
      });
    },
    { prefix: CONSOLE_PATH },
  );
}

function notBuilt(reply: FastifyReply) {
  return reply.status(503).send({
    statusCode: 503,
    error: 'console_not_built',
    message: 'The console has not been built: run npm run build',
  });
}
