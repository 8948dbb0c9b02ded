import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { AppError } from '../../platform/errors.ts';

/**
 * SSRF defence for push endpoints: Kith sends requests to URLs its users give it, so an endpoint
 * must be https and must not reach loopback, private, link-local or otherwise internal addresses —
 * checked on the URL at subscription and again, on every resolved address, when connecting
 * (`guardedLookup`), so a name that later resolves inward (DNS rebinding) is refused too.
 */
const internal = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  internal.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 96], // unspecified, loopback and IPv4-compatible (::a.b.c.d, deprecated: never a push service)
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local (deprecated, still routed inward by some networks)
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2001::', 32], // Teredo: tunnels to an IPv4 address
  ['2001:db8::', 32],
] as const)
  internal.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address (v4, v6, or v4-mapped v6) is one a push service never has. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family !== 6) return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return internal.check(mapped, 'ipv4');
  // (BlockList checks IPv4-mapped addresses in hex form, ::ffff:7f00:1, against the IPv4 rules)
  if (internal.check(address, 'ipv6')) return true;
  // 6to4 (2002::/16) reaches the IPv4 address in its next 32 bits
  const h = /^2002:/i.test(address) ? hextets(address) : undefined;
  return h ? internal.check(`${h[1]! >> 8}.${h[1]! & 255}.${h[2]! >> 8}.${h[2]! & 255}`, 'ipv4') : false;
}

/** The eight 16-bit groups of an IPv6 address (given valid by isIP; a dotted IPv4 tail allowed). */
function hextets(address: string): number[] {
  let a = address.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(1).map(Number) as [number, number, number, number];
    a = `${a.slice(0, v4.index)}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const [head = '', tail] = a.split('::');
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(8 - front.length - back.length).fill('0');
  return [...front, ...fill, ...back].map((x) => Number.parseInt(x, 16));
}

const MAX_ENDPOINT = 1024;
const refuse = (why: string) => new AppError('INVALID_PUSH_ENDPOINT', `The push endpoint ${why}.`);

/** The endpoint as a URL, or 400 INVALID_PUSH_ENDPOINT saying what is wrong with it. */
export function checkEndpoint(endpoint: string, allowInternal: boolean): URL {
  if (endpoint.length > MAX_ENDPOINT) throw refuse(`is longer than ${MAX_ENDPOINT} characters`);
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw refuse('is not a URL');
  }
  if (url.protocol !== 'https:') throw refuse('must be an https: URL');
  if (url.username || url.password) throw refuse('may not carry credentials');
  if (url.hash) throw refuse('may not carry a fragment');
  if (allowInternal) return url;
  const host = url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
  if (isIP(host) ? isInternalAddress(host) : isInternalName(host))
    throw refuse('points at a loopback, private or internal address');
  return url;
}

function isInternalName(host: string): boolean {
  return (
    !host.includes('.') ||
    host === 'localhost' ||
    ['.localhost', '.local', '.internal', '.home.arpa'].some((suffix) => host.endsWith(suffix))
  );
}

/** A `lookup` for the push agent that fails for names resolving to internal addresses. */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const bad = addresses.find((a) => isInternalAddress(a.address));
    if (bad || addresses.length === 0) {
      const refused = Object.assign(new Error(`push endpoint ${hostname} resolves to an internal address`), {
        code: 'PUSH_ENDPOINT_INTERNAL',
      });
      return callback(refused, '', 0);
    }
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};
