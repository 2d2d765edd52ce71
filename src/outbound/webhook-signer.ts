import { createHmac } from 'node:crypto';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

const SECRET_PREFIX = 'whsec_';

/** The HMAC key of a `whsec_<base64>` secret (a secret without the prefix is base64 too). */
function signingKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

/**
 * Standard Webhooks headers for one attempt: the id stays the event id on every retry, the
 * timestamp and signature are made anew. Signatures are `v1,<base64 HMAC-SHA256>` over
 * `id.timestamp.body`; several secrets (during a rotation) give several space-separated ones.
 * Signed with node:crypto (the `standardwebhooks` package hashes in JavaScript, several times
 * slower); the tests verify every signature with `standardwebhooks`.
 */
export function signWebhook(
  secrets: string[],
  messageId: string,
  body: string,
  at: Date = new Date(),
): SignedHeaders {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const signed = `${messageId}.${timestamp}.${body}`;
  const signatures = secrets.map(
    (secret) => `v1,${createHmac('sha256', signingKey(secret)).update(signed).digest('base64')}`,
  );
  return {
    'webhook-id': messageId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signatures.join(' '),
  };
}
