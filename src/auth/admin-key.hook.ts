import type { FastifyReply, FastifyRequest } from 'fastify';
import { secretsEqual } from '../common/secrets';

const REALM = 'webhook-router';

/**
 * An onRequest hook for one Fastify plugin scope (the queue dashboard): every route registered
 * in the scope needs an admin key, as Bearer or as a Basic password so a browser can log in.
 * A scope's hooks run for the routes the router matched in it, so how the request spelled its
 * target (absolute form, `%61dmin`, `//admin`) cannot skip the check.
 */
export function requireAdminKey(adminKeys: string[]) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
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

/** Checks every key in constant time, so the time taken does not tell which one came close. */
export function isAdminKey(given: string, adminKeys: string[]): boolean {
  return adminKeys.reduce((found, key) => secretsEqual(given, key) || found, false);
}
