/**
 * Where a webhook may point (SSRF): `https` only, and never an address in a link-local (the
 * metadata service at 169.254.169.254), loopback, private, unique-local or unspecified range,
 * unless the operator allows private networks (then `http` is allowed too). Every address the name
 * resolves to is checked, and the request connects to the address that was checked, so a DNS
 * answer that changes between the check and the connection (rebinding) cannot slip through.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const defaultResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

const blocked = new BlockList();
// IPv4
blocked.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network", 0.0.0.0
blocked.addSubnet('10.0.0.0', 8, 'ipv4');
blocked.addSubnet('100.64.0.0', 10, 'ipv4'); // carrier-grade NAT
blocked.addSubnet('127.0.0.0', 8, 'ipv4');
blocked.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, the instance metadata service
blocked.addSubnet('172.16.0.0', 12, 'ipv4');
blocked.addSubnet('192.168.0.0', 16, 'ipv4');
blocked.addSubnet('192.0.0.0', 24, 'ipv4');
blocked.addSubnet('198.18.0.0', 15, 'ipv4');
blocked.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
blocked.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved, broadcast
// IPv6
blocked.addAddress('::', 'ipv6');
blocked.addAddress('::1', 'ipv6');
blocked.addSubnet('fe80::', 10, 'ipv6'); // link-local
blocked.addSubnet('fc00::', 7, 'ipv6'); // unique local (fd00:ec2::254 is EC2's IPv6 metadata service)
blocked.addSubnet('ff00::', 8, 'ipv6'); // multicast
blocked.addSubnet('64:ff9b:1::', 48, 'ipv6'); // local-use NAT64

/** Whether an IP address is in a range a deployed webhook must not reach. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1]!, 'ipv4'); // IPv4-mapped: judge the IPv4 address
    return blocked.check(address, 'ipv6');
  }
  return true; // not an IP address at all: refuse
}

export class WebhookAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookAddressError';
  }
}

/** The static checks (scheme, literal addresses, "localhost"), as at creation: no DNS. */
export function checkWebhookUrl(url: string, allowPrivateNetworks: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookAddressError(`"${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && !(allowPrivateNetworks && parsed.protocol === 'http:')) {
    throw new WebhookAddressError(
      allowPrivateNetworks ? 'A webhook URL must be https:// or http://' : 'A webhook URL must be https:// (http is allowed only with private networks on)',
    );
  }
  if (parsed.username || parsed.password) throw new WebhookAddressError('A webhook URL must not carry credentials');
  if (!allowPrivateNetworks) {
    const host = hostOf(parsed);
    if (isIP(host) && isPrivateAddress(host)) throw new WebhookAddressError(`A webhook must not point at ${host}: a private, loopback or link-local address`);
    if (host === 'localhost' || host.endsWith('.localhost')) throw new WebhookAddressError('A webhook must not point at localhost');
  }
  return parsed;
}

/**
 * Checks the URL and resolves its host: every address it resolves to must be public (unless
 * private networks are allowed). Returns the address to connect to.
 */
export async function resolveWebhookAddress(
  url: string,
  allowPrivateNetworks: boolean,
  resolver: Resolver = defaultResolver,
): Promise<{ url: URL; address: ResolvedAddress }> {
  const parsed = checkWebhookUrl(url, allowPrivateNetworks);
  const host = hostOf(parsed);
  const literal = isIP(host);
  const addresses: readonly ResolvedAddress[] = literal ? [{ address: host, family: literal === 6 ? 6 : 4 }] : await resolver(host);
  if (addresses.length === 0) throw new WebhookAddressError(`${host} resolves to no address`);
  if (!allowPrivateNetworks) {
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) throw new WebhookAddressError(`${host} resolves to ${bad.address}: a private, loopback or link-local address`);
  }
  return { url: parsed, address: addresses[0]! };
}

/** The URL's host without IPv6 brackets. */
function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}
