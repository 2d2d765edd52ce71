import { createHmac, timingSafeEqual } from 'node:crypto';
import { VerificationResult } from '../source-normalizer';

/** Chatwoot's own prefix; a rebranded fork may send e.g. `X-Konversio-Signature` instead. */
export const DEFAULT_CHATWOOT_HEADER_PREFIX = 'X-Chatwoot';

/** Chatwoot's receiver guidance (PR #13573): refuse timestamps more than ~5 minutes off. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const SIGNATURE_SCHEME = 'sha256=';

export interface ChatwootHeaderNames {
  signature: string;
  timestamp: string;
  delivery: string;
}

/** Lower-cased names, as Node delivers headers. */
export function chatwootHeaderNames(prefix: string | null): ChatwootHeaderNames {
  const base = (prefix?.trim().replace(/-+$/, '') || DEFAULT_CHATWOOT_HEADER_PREFIX).toLowerCase();
  return {
    signature: `${base}-signature`,
    timestamp: `${base}-timestamp`,
    delivery: `${base}-delivery`,
  };
}

export interface ChatwootSignatureInput {
  /** The exact request bytes: ActiveSupport escapes `<>&`, so re-serialised JSON never matches. */
  rawBody: Buffer;
  timestamp?: string;
  signature?: string;
  secret: string;
  now: Date;
  toleranceSeconds?: number;
}

/** `sha256=` + hex HMAC-SHA256 over `"<timestamp>." + raw body`, keyed by the secret's UTF-8 bytes. */
export function chatwootSignature(rawBody: Buffer, timestamp: string, secret: string): string {
  const digest = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
  return SIGNATURE_SCHEME + digest;
}

export function verifyChatwootSignature({
  rawBody,
  timestamp,
  signature,
  secret,
  now,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
}: ChatwootSignatureInput): VerificationResult {
  const presented = signature?.trim();
  const sentAt = timestamp?.trim();
  if (!presented) return { ok: false, reason: 'missing signature header' };
  if (!sentAt) return { ok: false, reason: 'missing timestamp header' };
  if (!/^\d+$/.test(sentAt)) return { ok: false, reason: 'malformed timestamp header' };
  if (!isWithinTolerance(Number(sentAt), now, toleranceSeconds)) {
    return { ok: false, reason: 'timestamp outside tolerance' };
  }
  const expected = chatwootSignature(rawBody, sentAt, secret);
  return constantTimeEquals(expected, presented.toLowerCase())
    ? { ok: true, signed: { signature: expected, signedAt: new Date(Number(sentAt) * 1000) } }
    : { ok: false, reason: 'signature mismatch' };
}

function isWithinTolerance(sentAtSeconds: number, now: Date, toleranceSeconds: number): boolean {
  return Math.abs(now.getTime() / 1000 - sentAtSeconds) <= toleranceSeconds;
}

function constantTimeEquals(expected: string, presented: string): boolean {
  const expectedBytes = Buffer.from(expected, 'utf8');
  const presentedBytes = Buffer.from(presented, 'utf8');
  return (
    expectedBytes.length === presentedBytes.length && timingSafeEqual(expectedBytes, presentedBytes)
  );
}
