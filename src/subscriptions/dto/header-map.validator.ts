import { registerDecorator, ValidationOptions } from 'class-validator';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/;
const RESERVED = new Set([
  'content-type',
  'content-length',
  'host',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'transfer-encoding',
  'connection',
]);

/** A map of extra headers: valid names, string values, none that the router sets itself. */
export function IsHeaderMap(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isHeaderMap',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `headers must map header names to string values, and may not set ${[...RESERVED].join(', ')}`,
        ...options,
      },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= 50 &&
            entries.every(
              ([name, headerValue]) =>
                HEADER_NAME.test(name) &&
                !RESERVED.has(name.toLowerCase()) &&
                typeof headerValue === 'string' &&
                headerValue.length <= 4000 &&
                !/[\r\n]/.test(headerValue),
            )
          );
        },
      },
    });
}
