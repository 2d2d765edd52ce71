import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

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
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** IPv4-mapped (`::ffff:127.0.0.1`) and IPv4-compatible IPv6 forms are checked as IPv4. */
function embeddedIpv4(address: string): string | null {
  const match = /^(?:0*:)*(?:::)?(?:0*:)*(?:ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (match) return match[1];
  const hexMapped = /^(?:0*:)*:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hexMapped) return null;
  const high = parseInt(hexMapped[1], 16);
  const low = parseInt(hexMapped[2], 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

export function isBlockedAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').split('%')[0];
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const ipv4 = embeddedIpv4(bare);
    return ipv4 ? blocked.check(ipv4, 'ipv4') : blocked.check(bare, 'ipv6');
  }
  return true;
}

export type TargetCheck = { ok: true } | { ok: false; reason: string };

/** Checks a target URL: http(s) only, and every address its host resolves to must be public. */
export async function checkTarget(rawUrl: string, allowPrivate: boolean): Promise<TargetCheck> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, reason: 'url is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: 'url must use http or https' };
  }
  if (allowPrivate) return { ok: true };
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    } catch {
      return { ok: false, reason: `url host ${host} does not resolve` };
    }
  }
  const refused = addresses.find(isBlockedAddress);
  if (refused) {
    return {
      ok: false,
      reason: `url resolves to ${refused}, a private or reserved address (set ALLOW_PRIVATE_TARGETS=true to allow)`,
    };
  }
  return { ok: true };
}
