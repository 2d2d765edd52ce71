import { createHmac, createSecretKey, KeyObject } from 'node:crypto';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

const SECRET_PREFIX = 'whsec_';

/** HMAC keys of the secrets used lately: made once per secret, not once per attempt. */
const KEYS = new Map<string, KeyObject>();
const KEYS_KEPT = 1000;

/** The HMAC key of a `whsec_<base64>` secret (a secret without the prefix is base64 too). */
function signingKey(secret: string): KeyObject {
  let key = KEYS.get(secret);
  if (key) return key;
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  key = createSecretKey(Buffer.from(encoded, 'base64'));
  if (KEYS.size >= KEYS_KEPT) KEYS.clear();
  KEYS.set(secret, key);
  return key;
}

/**
 * Standard Webhooks headers for one attempt: the id stays the event id on every retry, the
 * timestamp and signature are made anew. Signatures are `v1,<base64 HMAC-SHA256>` over
 * `id.timestamp.body`; several secrets (during a rotation) give several space-separated ones.
 * The body may come as its UTF-8 bytes (the bytes sent), which spares encoding it again.
 * Signed with node:crypto (the `standardwebhooks` package hashes in JavaScript, several times
 * slower); the tests verify every signature with `standardwebhooks`.
 */
export function signWebhook(
  secrets: string[],
  messageId: string,
  body: string | Buffer,
  at: Date = new Date(),
): SignedHeaders {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const prefix = `${messageId}.${timestamp}.`;
  let signature = '';
  for (const secret of secrets) {
    const hmac = createHmac('sha256', signingKey(secret)).update(prefix).update(body);
    signature += `${signature === '' ? '' : ' '}v1,${hmac.digest('base64')}`;
  }
  return {
    'webhook-id': messageId,
    'webhook-timestamp': timestamp,
    'webhook-signature': signature,
  };
}
