import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { isMaskedValue } from '../subscription-credentials';

const MAX_HEADERS = 50;
const MAX_NAME_LENGTH = 100;
const MAX_VALUE_LENGTH = 4000;
/** RFC 9110 token: the characters a header name may hold. */
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** RFC 9110 field value: tab, space, visible ASCII and obs-text; no control character. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** The router sets these on every delivery. */
const SET_BY_ROUTER = new Set([
  'content-type',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);
/** About the connection, not the message: the HTTP client refuses them or they break the request. */
const TRANSPORT = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

/**
 * What is wrong with a map of extra delivery headers, one line per header at fault, naming it:
 * names that are not tokens, headers the router or the connection owns, a name given twice
 * (in any case), values HTTP cannot carry. A masked value (as reads show it) passes here; the
 * service resolves it.
 */
export function headerMapProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return ['headers must map header names to string values'];
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_HEADERS) return [`headers may set at most ${MAX_HEADERS} headers`];
  const seen = new Set<string>();
  return entries.flatMap(([name, headerValue]) => {
    const problem = headerProblem(name, headerValue, seen);
    return problem ? [problem] : [];
  });
}

function headerProblem(name: string, value: unknown, seen: Set<string>): string | null {
  const shown = JSON.stringify(name);
  const lower = name.toLowerCase();
  if (name.length > MAX_NAME_LENGTH || !TOKEN.test(name)) {
    return `header ${shown} is not a header name: letters, digits and !#$%&'*+.^_\`|~- only, at most ${MAX_NAME_LENGTH}`;
  }
  if (SET_BY_ROUTER.has(lower)) return `header ${shown} is set by the router`;
  if (TRANSPORT.has(lower))
    return `header ${shown} belongs to the connection: a delivery cannot carry it`;
  if (seen.has(lower)) return `header ${shown} is given twice`;
  seen.add(lower);
  if (typeof value !== 'string') return `header ${shown} must have a string value`;
  if (value.length > MAX_VALUE_LENGTH) {
    return `header ${shown} is longer than ${MAX_VALUE_LENGTH} characters`;
  }
  if (!FIELD_VALUE.test(value) && !isMaskedValue(value)) {
    return `header ${shown} holds characters a header value cannot: control characters, or beyond U+00FF`;
  }
  return null;
}

/** A map of extra headers a delivery can carry (headerMapProblems). */
export function IsHeaderMap(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isHeaderMap',
      target: target.constructor,
      propertyName: propertyName as string,
      options,
      validator: {
        validate: (value: unknown) => headerMapProblems(value).length === 0,
        defaultMessage: (args?: ValidationArguments) => headerMapProblems(args?.value).join('; '),
      },
    });
}
