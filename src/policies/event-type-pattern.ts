/** `message.*`, `conversation.ended`, `*`: lower-case segments, `*` standing for one whole segment. */
export const EVENT_TYPE_PATTERN = /^(\*|[a-z][a-z0-9_]*)(\.(\*|[a-z][a-z0-9_]*))*$/;

/**
 * Whether a canonical type matches a subscription pattern. `*` matches exactly one segment
 * (`message.*` matches `message.created`, not `message`); a lone `*` matches every type.
 */
export function eventTypeMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  const patternSegments = pattern.split('.');
  const typeSegments = type.split('.');
  if (patternSegments.length !== typeSegments.length) return false;
  return patternSegments.every(
    (segment, index) => segment === '*' || segment === typeSegments[index],
  );
}
