import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { AppError } from './app-error';

const NUL = '\u0000';
const MAX_NAMED = 20;

/**
 * Refuses a body, query or route parameter holding U+0000 anywhere (in a value or a key),
 * naming each field that does: Postgres stores no NUL in text or jsonb, and would answer the
 * insert with an error (a 500) instead. Runs before the ValidationPipe, on every admin route.
 */
@Injectable()
export class NulCharactersPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'custom') return value;
    const prefix = metadata.type === 'param' ? (metadata.data ?? '') : '';
    const fields = fieldsWithNul(value, prefix);
    if (fields.length === 0) return value;
    throw new AppError(
      'validation_failed',
      `Invalid fields: ${fields.join(', ')}`,
      fields.map((field) => ({
        field,
        problems: [`${field} contains a NUL character (\\u0000), which cannot be stored`],
      })),
    );
  }
}

/** Dotted paths of the strings holding a NUL, keys included; walked without recursion. */
export function fieldsWithNul(value: unknown, prefix = ''): string[] {
  const found: string[] = [];
  const pending: [unknown, string][] = [[value, prefix]];
  while (pending.length > 0 && found.length < MAX_NAMED) {
    const [current, path] = pending.pop()!;
    if (typeof current === 'string') {
      if (current.includes(NUL)) found.push(path);
    } else if (typeof current === 'object' && current !== null) {
      for (const [key, child] of Object.entries(current).reverse()) {
        const childPath = path ? `${path}.${printable(key)}` : printable(key);
        // A key with a NUL is named as if its value held one.
        pending.push([key.includes(NUL) ? NUL : child, childPath]);
      }
    }
  }
  return found;
}

function printable(key: string): string {
  return key.replaceAll(NUL, '\\u0000');
}
