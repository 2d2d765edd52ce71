import type { FastifyReply, FastifyRequest } from 'fastify';
import { posix } from 'node:path';
import { secretsEqual } from '../common/secrets';

const ADMIN_PREFIX = '/admin';
const REALM = 'webhook-router';

/** An onRequest hook: /admin and below need an admin key, as Bearer or as a Basic password. */
export function adminPathGuard(adminKeys: string[]) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    if (!isAdminPath(request.url)) return done();
    const given = presentedKey(request.headers.authorization);
    if (given !== null && isAdminKey(given, adminKeys)) return done();
    void reply
      .status(401)
      .header('WWW-Authenticate', `Basic realm="${REALM}", charset="UTF-8"`)
      .send({
        statusCode: 401,
        error: 'unauthorized',
        message:
          given === null
            ? 'Missing admin key: send Authorization: Bearer <key>, or Basic with the key as password'
            : 'Invalid admin key',
      });
  };
}

/**
 * Whether a request URL falls under /admin, judged on the path as the router will see it:
 * percent-decoded (`/%61dmin`), duplicate slashes and dot segments resolved, any letter case.
 * A path that cannot be decoded counts as admin, so it is never let through unchecked.
 */
export function isAdminPath(url: string): boolean {
  const rawPath = url.split(/[?#]/, 1)[0];
  // Without "admin" or a percent sign, no decoding or normalizing can make it one (fast path).
  if (!/admin|%/i.test(rawPath)) return false;
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return true;
  }
  const normalized = posix.normalize(`/${path}`).toLowerCase();
  return normalized === ADMIN_PREFIX || normalized.startsWith(`${ADMIN_PREFIX}/`);
}

/** The key in `Bearer <key>`, or the password of `Basic base64(user:key)`; else null. */
export function presentedKey(header: string | undefined): string | null {
  if (typeof header !== 'string') return null;
  const bearer = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (bearer) return bearer[1];
  const basic = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header.trim());
  if (!basic) return null;
  const credentials = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = credentials.indexOf(':');
  return colon === -1 ? null : credentials.slice(colon + 1);
}

/** Checks every key, so the time taken does not tell which one came close. */
function isAdminKey(given: string, adminKeys: string[]): boolean {
  return adminKeys.reduce((found, key) => secretsEqual(given, key) || found, false);
}
