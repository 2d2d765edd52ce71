/**
 * Postgres text and jsonb cannot hold NUL, which a JSON string from a source may carry as
 * \u0000; an index entry cannot exceed a few kilobytes. What the conversations tables store
 * from a payload goes through these, so no payload makes a write fail on every retry.
 */

/** Longest native id, key or address kept as an indexed value; a longer one identifies nothing. */
export const MAX_INDEXED_LENGTH = 512;

const NUL = String.fromCharCode(0);

export function pgText<T extends string | null | undefined>(value: T): T {
  return (
    typeof value === 'string' && value.includes(NUL) ? value.replaceAll(NUL, '') : value
  ) as T;
}

/** An indexed value, or null when it is too long to be one. */
export function pgIndexed(value: string | null | undefined): string | null {
  if (value == null) return null;
  const text = pgText(value);
  return text.length > MAX_INDEXED_LENGTH ? null : text;
}

/** JSON text for a jsonb parameter, with NUL dropped from every string. */
export function pgJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\u0000')
    ? JSON.stringify(value, (_key, item: unknown) =>
        typeof item === 'string' ? item.replaceAll(NUL, '') : item,
      )
    : json;
}
