import { createHmac } from 'node:crypto';
import * as fs from 'fs';
import * as path from 'path';
import { FIXTURES_ROOT } from '../testing/normalizer-harness';
import {
  chatwootHeaderNames,
  chatwootSignature,
  verifyChatwootSignature,
} from './chatwoot.signature';

const FIXTURES = path.join(FIXTURES_ROOT, 'chatwoot');

interface SignatureVector {
  name: string;
  secret: string;
  timestamp: string;
  raw_body: string;
  signed_string_prefix: string;
  expected_signature_header: string;
  json_stringify_of_parsed_body_would_be: string;
  signature_over_reserialised_body_WRONG: string;
}

function readFixture<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as T;
}

/** What Rails' `to_json` puts on the wire: compact, with `< > & U+2028 U+2029` escaped. */
function activeSupportJson(value: unknown): string {
  const escapes: Record<string, string> = {
    '<': '\\u003c',
    '>': '\\u003e',
    '&': '\\u0026',
    '\u2028': '\\u2028',
    '\u2029': '\\u2029',
  };
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => escapes[char]);
}

const atSecond = (unixSeconds: string | number) => new Date(Number(unixSeconds) * 1000);

const [tinyVector] = readFixture<{ vectors: SignatureVector[] }>(
  '_signature_test_vectors.json',
).vectors;

describe('verifyChatwootSignature', () => {
  describe(`vector "${tinyVector.name}" (HTML-escaped body)`, () => {
    const rawBody = Buffer.from(tinyVector.raw_body, 'utf8');
    const base = {
      rawBody,
      timestamp: tinyVector.timestamp,
      secret: tinyVector.secret,
      now: atSecond(tinyVector.timestamp),
    };

    it('computes the expected header value over "<timestamp>." + raw bytes', () => {
      expect(tinyVector.signed_string_prefix).toBe(`${tinyVector.timestamp}.`);
      expect(chatwootSignature(rawBody, tinyVector.timestamp, tinyVector.secret)).toBe(
        tinyVector.expected_signature_header,
      );
    });

    it('accepts the expected signature', () => {
      const result = verifyChatwootSignature({
        ...base,
        signature: tinyVector.expected_signature_header,
      });
      expect(result).toMatchObject({ ok: true });
    });

    it('shows that re-serialising the parsed body changes the signed bytes', () => {
      const reserialised = JSON.stringify(JSON.parse(tinyVector.raw_body));
      expect(reserialised).toBe(tinyVector.json_stringify_of_parsed_body_would_be);
      expect(reserialised).not.toBe(tinyVector.raw_body);
      expect(
        verifyChatwootSignature({
          ...base,
          rawBody: Buffer.from(reserialised, 'utf8'),
          signature: tinyVector.expected_signature_header,
        }),
      ).toEqual({ ok: false, reason: 'signature mismatch' });
    });

    it('rejects the signature a sender would compute over the re-serialised body', () => {
      expect(
        verifyChatwootSignature({
          ...base,
          signature: tinyVector.signature_over_reserialised_body_WRONG,
        }),
      ).toEqual({ ok: false, reason: 'signature mismatch' });
    });
  });

  describe('vector "conversation_created.json" (wire/chatwoot.md §3.2)', () => {
    // The vector file carries only the tiny vector; the doc gives this one's timestamp and header.
    const timestamp = '1776348312';
    const expected = 'sha256=bbf38dcce68595bc30c7e7ad0605ac6d195b4429cd09a4d7c6556c186e419de5';
    const secret = tinyVector.secret;
    const wireBody = activeSupportJson(readFixture('conversation_created.json'));

    it('accepts the documented signature over the exact wire bytes', () => {
      expect(wireBody).toContain('\\u0026 need one');
      const result = verifyChatwootSignature({
        rawBody: Buffer.from(wireBody, 'utf8'),
        timestamp,
        signature: expected,
        secret,
        now: atSecond(timestamp),
      });
      expect(result).toMatchObject({ ok: true });
    });

    it('fails over the JSON.stringify re-serialisation (the `&` is no longer escaped)', () => {
      const reserialised = JSON.stringify(JSON.parse(wireBody));
      expect(reserialised).not.toBe(wireBody);
      const result = verifyChatwootSignature({
        rawBody: Buffer.from(reserialised, 'utf8'),
        timestamp,
        signature: expected,
        secret,
        now: atSecond(timestamp),
      });
      expect(result).toEqual({ ok: false, reason: 'signature mismatch' });
    });
  });

  describe('the signed header example of _http_headers.examples.json', () => {
    const headers = readFixture<Record<string, Record<string, string>>>(
      '_http_headers.examples.json',
    )['v4.14_plus_signed_account_webhook'];

    it('verifies over message_created.outgoing_agent.json as sent', () => {
      const wireBody = activeSupportJson(readFixture('message_created.outgoing_agent.json'));
      const result = verifyChatwootSignature({
        rawBody: Buffer.from(wireBody, 'utf8'),
        timestamp: headers['X-Chatwoot-Timestamp'],
        signature: headers['X-Chatwoot-Signature'],
        secret: headers._secret,
        now: atSecond(headers['X-Chatwoot-Timestamp']),
      });
      expect(result).toMatchObject({ ok: true });
    });
  });

  describe('rejections', () => {
    const secret = 'a-webhook-secret-24chars';
    const timestamp = '1776348422';
    const rawBody = Buffer.from('{"event":"message_created","id":1}', 'utf8');
    const signature = chatwootSignature(rawBody, timestamp, secret);
    const valid = { rawBody, timestamp, signature, secret, now: atSecond(timestamp) };

    it('accepts the untouched request', () => {
      expect(verifyChatwootSignature(valid)).toMatchObject({ ok: true });
    });

    it('rejects a tampered body', () => {
      const tampered = Buffer.from('{"event":"message_created","id":2}', 'utf8');
      expect(verifyChatwootSignature({ ...valid, rawBody: tampered })).toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('rejects a signature made with another secret', () => {
      expect(verifyChatwootSignature({ ...valid, secret: 'another-secret' })).toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('rejects a signature without the timestamp prefix (issue #13809)', () => {
      const bodyOnly = `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
      expect(verifyChatwootSignature({ ...valid, signature: bodyOnly })).toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('rejects a bare hex digest without the sha256= scheme', () => {
      expect(verifyChatwootSignature({ ...valid, signature: signature.slice(7) })).toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('rejects a timestamp that does not match the signed one', () => {
      const next = String(Number(timestamp) + 1);
      expect(verifyChatwootSignature({ ...valid, timestamp: next, now: atSecond(next) })).toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('accepts a delivery at the edge of the tolerance, both ways', () => {
      expect(
        verifyChatwootSignature({ ...valid, now: atSecond(Number(timestamp) + 300) }),
      ).toMatchObject({ ok: true });
      expect(
        verifyChatwootSignature({ ...valid, now: atSecond(Number(timestamp) - 300) }),
      ).toMatchObject({ ok: true });
    });

    it('rejects a stale timestamp', () => {
      expect(verifyChatwootSignature({ ...valid, now: atSecond(Number(timestamp) + 301) })).toEqual(
        {
          ok: false,
          reason: 'timestamp outside tolerance',
        },
      );
    });

    it('rejects a timestamp from the future', () => {
      expect(verifyChatwootSignature({ ...valid, now: atSecond(Number(timestamp) - 301) })).toEqual(
        {
          ok: false,
          reason: 'timestamp outside tolerance',
        },
      );
    });

    it('honours a custom tolerance', () => {
      const now = atSecond(Number(timestamp) + 30);
      expect(verifyChatwootSignature({ ...valid, now, toleranceSeconds: 10 })).toEqual({
        ok: false,
        reason: 'timestamp outside tolerance',
      });
    });

    it.each([['1776348422.5'], ['-1776348422'], ['1776348422ms'], ['0x69e0c006']])(
      'rejects the non-digit timestamp %p',
      (badTimestamp) => {
        expect(verifyChatwootSignature({ ...valid, timestamp: badTimestamp })).toEqual({
          ok: false,
          reason: 'malformed timestamp header',
        });
      },
    );

    it.each([[undefined], [''], ['   ']])('rejects a missing signature (%p)', (missing) => {
      expect(verifyChatwootSignature({ ...valid, signature: missing })).toEqual({
        ok: false,
        reason: 'missing signature header',
      });
    });

    it.each([[undefined], [''], ['   ']])('rejects a missing timestamp (%p)', (missing) => {
      expect(verifyChatwootSignature({ ...valid, timestamp: missing })).toEqual({
        ok: false,
        reason: 'missing timestamp header',
      });
    });

    it('rejects a signature of another length without throwing', () => {
      expect(verifyChatwootSignature({ ...valid, signature: `${signature}00` })).toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
      expect(verifyChatwootSignature({ ...valid, signature: 'sha256=é' })).toEqual({
        ok: false,
        reason: 'signature mismatch',
      });
    });

    it('tolerates surrounding whitespace and upper-case hex', () => {
      expect(
        verifyChatwootSignature({ ...valid, signature: ` ${signature.toUpperCase()} ` }),
      ).toMatchObject({ ok: true });
    });
  });
});

describe('chatwootHeaderNames', () => {
  it('defaults to the X-Chatwoot prefix, lower-cased', () => {
    expect(chatwootHeaderNames(null)).toEqual({
      signature: 'x-chatwoot-signature',
      timestamp: 'x-chatwoot-timestamp',
      delivery: 'x-chatwoot-delivery',
    });
    expect(chatwootHeaderNames('  ')).toEqual(chatwootHeaderNames(null));
  });

  it('uses a fork prefix such as X-Konversio', () => {
    expect(chatwootHeaderNames('X-Konversio')).toEqual({
      signature: 'x-konversio-signature',
      timestamp: 'x-konversio-timestamp',
      delivery: 'x-konversio-delivery',
    });
  });

  it('does not double a trailing dash', () => {
    expect(chatwootHeaderNames('X-Nexloo-')).toEqual(chatwootHeaderNames('x-nexloo'));
  });
});
