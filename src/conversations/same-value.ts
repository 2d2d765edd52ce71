/**
 * A value a remembered state already holds, kept instead of an equal one from the next event:
 * the state the worker remembers then points at objects that have lived (and been collected
 * around) long already, and the event's copies die young with it.
 */
export function keptIfSame<T>(kept: T, next: T): T {
  return sameValue(kept, next) ? kept : next;
}

/**
 * The same JSON-like value: equal primitives, or arrays and plain objects with the same keys and
 * the same values. The order of keys is not compared: every place a state's value goes (jsonb
 * columns, their comparisons) ignores it.
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
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let keys = 0;
  for (const key in left) {
    if (!Object.hasOwn(right, key) || !sameValue(left[key], right[key])) return false;
    keys++;
  }
  for (const key in right) if (--keys < 0 || !Object.hasOwn(left, key)) return false;
  return keys === 0;
}

function isPlain(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
