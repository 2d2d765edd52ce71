/**
 * A value a remembered state already holds, kept instead of an equal one from the next event:
 * the state the worker remembers then points at objects that have lived (and been collected
 * around) long already, and the event's copies die young with it.
 */
export function keptIfSame<T>(kept: T, next: T): T {
  return sameValue(kept, next) ? kept : next;
}

/**
 * The same JSON-like value: equal primitives, or arrays and plain objects with the same keys in
 * the same order and the same values (so either serialises to the same text).
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let index = 0; index < a.length; index++) {
      if (!sameValue(a[index], b[index])) return false;
    }
    return true;
  }
  if (!isPlain(a) || !isPlain(b)) return false;
  const keys = Object.keys(a);
  const otherKeys = Object.keys(b);
  if (keys.length !== otherKeys.length) return false;
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index];
    if (key !== otherKeys[index]) return false;
    if (!sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) {
      return false;
    }
  }
  return true;
}

function isPlain(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
