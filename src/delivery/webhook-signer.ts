import { Webhook } from 'standardwebhooks';

export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Standard Webhooks headers for one attempt: the id stays the event id on every retry, the
 * timestamp and signature are made anew. Signatures are `v1,<base64 HMAC-SHA256>` over
 * `id.timestamp.body`; several secrets (during a rotation) give several space-separated ones.
 */
export function signWebhook(
  secrets: string[],
  messageId: string,
  body: string,
  at: Date = new Date(),
): SignedHeaders {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(messageId, at, body));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}
