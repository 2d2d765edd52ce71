/**
 * A subscription's extra header values (`Authorization`, API keys) and the userinfo of its URL
 * are credentials: shown in the create answer, masked on every read. A value sent back masked
 * (as a client that PATCHes what it read does) keeps the value it masks.
 */
export const MASK = '…';

/** Values this long show their last 4 characters, so a reader can tell them apart. */
const HINT_FROM_LENGTH = 16;

/** U+2026 cannot appear in a header value (nothing above U+00FF can), so no real value starts with it. */
export function isMaskedValue(value: string): boolean {
  return value.startsWith(MASK);
}

export function maskHeaderValue(value: string): string {
  return value.length >= HINT_FROM_LENGTH ? `${MASK}${value.slice(-4)}` : MASK;
}

export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, maskHeaderValue(value)]),
  );
}

/**
 * The headers to store: each masked value replaced by the current value of the same header
 * (names compared without case) when it masks that value; else a problem naming the header.
 */
export function unmaskHeaders(
  given: Record<string, string>,
  current: Record<string, string>,
): { headers: Record<string, string>; problems: string[] } {
  const currentByName = new Map(
    Object.entries(current).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const problems: string[] = [];
  const headers = Object.fromEntries(
    Object.entries(given).map(([name, value]) => {
      if (!isMaskedValue(value)) return [name, value];
      const kept = currentByName.get(name.toLowerCase());
      if (kept === undefined || maskHeaderValue(kept) !== value) {
        problems.push(
          `header ${JSON.stringify(name)} holds a masked value that masks no current value: send the value itself`,
        );
      }
      return [name, kept ?? value];
    }),
  );
  return { headers, problems };
}

/** `scheme://` and the userinfo before the authority's last `@`, when there is one. */
const USERINFO = /^([a-z][a-z\d+.-]*:\/\/)([^/?#\\]*)@/i;

/** The URL with its userinfo masked: `https://…:…@host/path`. */
export function maskUrlCredentials(url: string): string {
  return url.replace(
    USERINFO,
    (_, scheme: string, userinfo: string) => `${scheme}${maskUserinfo(userinfo)}@`,
  );
}

/**
 * The URL to store: userinfo masked as a read shows it is replaced by the current URL's own;
 * a problem when it masks none.
 */
export function unmaskUrl(
  given: string,
  current: string | null,
): { url: string; problem?: string } {
  const userinfo = USERINFO.exec(given)?.[2];
  if (userinfo === undefined || !isMaskedValue(userinfo)) return { url: given };
  const kept = current === null ? undefined : USERINFO.exec(current)?.[2];
  if (kept === undefined || maskUserinfo(kept) !== userinfo) {
    return {
      url: given,
      problem: 'url holds masked credentials that mask no current ones: send them in full',
    };
  }
  return { url: given.replace(USERINFO, (_, scheme: string) => `${scheme}${kept}@`) };
}

function maskUserinfo(userinfo: string): string {
  return userinfo.includes(':') ? `${MASK}:${MASK}` : MASK;
}
