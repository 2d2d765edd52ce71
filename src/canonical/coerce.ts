import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Tolerant readers for untrusted payloads: sources mix numbers and strings for ids, send
 * null or omit fields at will, and use several time formats. None of these ever throws.
 */

export type JsonRecord = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): JsonRecord | null {
  return isRecord(value) ? value : null;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Non-empty string, or null. Numbers and booleans are rendered; objects are not. */
export function asString(value: unknown): string | null {
  if (typeof value === 'string') return value.length > 0 ? value : null;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return null;
}

/** An identifier as a string, whatever JSON type carried it (Jivo mixes both for one id). */
export function asId(value: unknown): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : null;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return trimmed.length > 0 ? trimmed : null;
  }
  if (typeof value === 'bigint') return value.toString();
  return null;
}

export function asNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

export function asBoolean(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 1 || value === '1') return true;
  if (value === 'false' || value === 0 || value === '0') return false;
  return null;
}

export function asStringList(value: unknown): string[] {
  return asArray(value)
    .map(asString)
    .filter((item): item is string => item !== null);
}

const EARLIEST_PLAUSIBLE_MS = Date.UTC(2000, 0, 1);
const LATEST_REPRESENTABLE_MS = Date.UTC(10000, 0, 1); // ISO-8601 without an expanded year
const MS_THRESHOLD = 1e11; // below: seconds (until year 5138); above: milliseconds

/**
 * Any time a source sends, as an ISO-8601 UTC string, or null: unix seconds (int or float,
 * number or numeric string), unix milliseconds, ISO-8601, `2020-03-03 13:05:57 UTC`, and
 * JavaScript `Date.toString()` output such as `Thu Apr 16 2026 11:05:10 GMT-0300 (…)`.
 * Zero and other pre-2000 epochs mean "not set" in Chatwoot, so they map to null, and so do
 * times past year 9999, which ISO-8601 cannot write without an expanded year.
 */
export function toIsoTime(value: unknown): string | null {
  let ms: number | null = null;
  const numeric = asNumber(value);
  if (numeric !== null) {
    ms = Math.abs(numeric) < MS_THRESHOLD ? numeric * 1000 : numeric;
  } else if (typeof value === 'string') {
    ms = parseDateString(value.trim());
  }
  if (ms === null || !Number.isFinite(ms)) return null;
  if (ms < EARLIEST_PLAUSIBLE_MS || ms >= LATEST_REPRESENTABLE_MS) return null;
  const date = new Date(Math.round(ms));
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function parseDateString(text: string): number | null {
  if (text === '') return null;
  // `Thu Apr 16 2026 11:05:10 GMT-0300 (Brasilia Standard Time)`: drop the zone name.
  const withoutZoneName = text.replace(/\s*\([^)]*\)\s*$/, '');
  // `2020-03-03 13:05:57 UTC`
  const railsUtc = withoutZoneName.replace(
    /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/,
    '$1T$2Z',
  );
  // An ISO date-time without a zone is UTC here, never the server's local time.
  const isoWithoutZone = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(railsUtc);
  const ms = Date.parse(isoWithoutZone ? `${railsUtc}Z` : railsUtc);
  return Number.isNaN(ms) ? null : ms;
}

/** Phones read lately, per default country: a chat's events carry the same phone again and again. */
const E164_MEMO = new Map<string, Map<string, string | null>>();
const E164_MEMO_SIZE = 1000;
let e164Memoized = 0;

/** The phone in E.164 when it can be read as one (a leading + or a default country), else null. */
export function toE164(phone: string | null, defaultCountry?: string): string | null {
  if (!phone) return null;
  const country = defaultCountry ?? '';
  let memo = E164_MEMO.get(country);
  const known = memo?.get(phone);
  if (known !== undefined) return known;
  if (e164Memoized >= E164_MEMO_SIZE) {
    E164_MEMO.clear();
    e164Memoized = 0;
    memo = undefined;
  }
  if (!memo) E164_MEMO.set(country, (memo = new Map()));
  const read = readE164(phone, defaultCountry);
  memo.set(phone, read);
  e164Memoized += 1;
  return read;
}

function readE164(phone: string, defaultCountry?: string): string | null {
  try {
    const parsed = parsePhoneNumberFromString(
      phone,
      defaultCountry as Parameters<typeof parsePhoneNumberFromString>[1],
    );
    return parsed && parsed.isValid() ? parsed.number : null;
  } catch {
    return null;
  }
}

/** Keeps only the entries of a record, dropping the record when it is not one. */
export function recordOrEmpty(value: unknown): JsonRecord {
  return isRecord(value) ? { ...value } : {};
}
