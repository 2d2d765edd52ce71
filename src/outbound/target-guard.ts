import { lookup as lookupCallback } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP, LookupFunction } from 'node:net';

/**
 * Refuses delivery targets on loopback, private, link-local, CGNAT, multicast, reserved and
 * cloud-metadata addresses, after DNS resolution, so a subscription cannot reach inside the
 * network the router runs in.
 */
const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  // NAT64 for local use (RFC 8215): where the IPv4 address sits depends on the local prefix.
  ['64:ff9b:1::', 48],
  ['100::', 64],
  // Teredo tunnels (IPv4 endpoints inside, one of them obfuscated) and benchmarking.
  ['2001::', 32],
  ['2001:2::', 48],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a dotted IPv4 tail read). */
function ipv6Groups(address: string): number[] {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(address);
  const hex = dotted ? address.slice(0, dotted.index) + asTwoGroups(dotted.slice(1)) : address;
  const groupsOf = (part: string) =>
    part ? part.split(':').map((group) => parseInt(group, 16)) : [];
  const [head, tail] = hex.split('::');
  if (tail === undefined) return groupsOf(head);
  const [before, after] = [groupsOf(head), groupsOf(tail)];
  return [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
}

function asTwoGroups(octets: string[]): string {
  const [a, b, c, d] = octets.map(Number);
  return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

/**
 * The IPv4 address an IPv6 one carries, where the IPv6 form says it does: IPv4-compatible
 * (`::a.b.c.d`), IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), NAT64's
 * well-known prefix (`64:ff9b::a.b.c.d`) and 6to4 (`2002:aabb:ccdd::/48`). Null otherwise.
 */
function embeddedIpv4(address: string): string | null {
  const groups = ipv6Groups(address);
  const zero = (from: number, to: number) => groups.slice(from, to).every((group) => group === 0);
  const ipv4 = (high: number, low: number) =>
    [high >> 8, high & 255, low >> 8, low & 255].join('.');
  if (zero(0, 5) && (groups[5] === 0 || groups[5] === 0xffff)) return ipv4(groups[6], groups[7]);
  if (zero(0, 4) && groups[4] === 0xffff && groups[5] === 0) return ipv4(groups[6], groups[7]);
  if (groups[0] === 0x64 && groups[1] === 0xff9b && zero(2, 6)) return ipv4(groups[6], groups[7]);
  if (groups[0] === 0x2002) return ipv4(groups[1], groups[2]);
  return null;
}

/** Whether an address (IPv4 or IPv6, bracketed or with a zone) may not be delivered to. */
export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0];
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const ipv4 = embeddedIpv4(bare);
    return (ipv4 !== null && blocked.check(ipv4, 'ipv4')) || blocked.check(bare, 'ipv6');
  }
  return true;
}

export type TargetCheck = { ok: true } | { ok: false; reason: string };

/**
 * What can be checked without DNS: http(s) only, and an IP-literal host must be public. A host
 * name passes; `checkTarget` or `guardedLookup` checks what it resolves to.
 */
export function checkTargetUrl(rawUrl: string, allowPrivate: boolean): TargetCheck {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, reason: 'url is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'url must use http or https' };
  }
  const host = hostOf(url);
  if (!allowPrivate && isIP(host) && isBlockedAddress(host)) {
    return { ok: false, reason: refusal('url', host) };
  }
  return { ok: true };
}

/** Checks a target URL: http(s) only, and every address its host resolves to must be public. */
export async function checkTarget(rawUrl: string, allowPrivate: boolean): Promise<TargetCheck> {
  const literal = checkTargetUrl(rawUrl, allowPrivate);
  if (!literal.ok || allowPrivate) return literal;
  const host = hostOf(new URL(rawUrl));
  if (isIP(host)) return literal;
  let addresses: string[];
  try {
    addresses = (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
  } catch {
    return { ok: false, reason: `url host ${host} does not resolve` };
  }
  const refused = addresses.find(isBlockedAddress);
  if (refused) return { ok: false, reason: refusal('url', refused) };
  return { ok: true };
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function refusal(subject: string, address: string): string {
  return `${subject} resolves to ${address}, a private or reserved address (set ALLOW_PRIVATE_TARGETS=true to allow)`;
}

/** A connection the guarded lookup would not let through. */
export class TargetRefusedError extends Error {
  readonly code = 'ERR_TARGET_REFUSED';
}

/**
 * A `net` lookup that refuses private and reserved addresses. Given to the HTTP client's
 * connect, it checks the very addresses the socket then connects to, so a host cannot resolve
 * to a public address for `checkTarget` and to an internal one for the connection (DNS
 * rebinding). IP literals never reach a lookup: `checkTargetUrl` covers those.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  lookupCallback(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '');
    const refused = addresses.find((entry) => isBlockedAddress(entry.address));
    if (refused) return callback(new TargetRefusedError(refusal(hostname, refused.address)), '');
    if (addresses.length === 0) {
      return callback(
        Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
        '',
      );
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
};
