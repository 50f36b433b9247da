import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { ipv6Groups } from '../../shared/ip.js';

/**
 * Where sinks may send requests. A sink URL is admin input and the request leaves from inside our
 * network, so by default only public unicast addresses are reachable: no loopback, private,
 * link-local (cloud metadata at 169.254.169.254), CGNAT, multicast or unspecified addresses, in
 * IPv4 or IPv6 (IPv4-mapped and NAT64 addresses are judged by the IPv4 address inside).
 * `allowedNetworks` (SINK_ALLOWED_NETWORKS) opens ranges for on-prem CRMs and tests.
 */
export interface EgressPolicy {
  /** Why the address may not be reached, or undefined when it may. */
  refusal(address: string): string | undefined;
  /**
   * A `lookup` for http.request: resolves like dns.lookup and fails when any address is refused,
   * so the socket connects only to an address that was checked (no DNS rebinding in between).
   */
  lookup: net.LookupFunction;
  /** Checks a URL before it is stored: literal addresses, and the names that resolve now. */
  checkUrl(url: string): Promise<string | undefined>;
  /**
   * Keep-alive connection pools (as fetch had) owned by this policy: a socket reused for a receiver was
   * opened through this policy's lookup, never through another policy's.
   */
  agents: { http: http.Agent; https: https.Agent };
}

const DENIED: Array<[string, number, 'ipv4' | 'ipv6', string]> = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 96, 'ipv6', 'unspecified, loopback or IPv4-compatible'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

/** The IPv4 address carried inside ::ffff:a.b.c.d (mapped) or 64:ff9b::a.b.c.d (NAT64), if any. */
function embeddedIpv4(address: string): string | undefined {
  const groups = ipv6Groups(address);
  if (!groups) return undefined;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0);
  if (!mapped && !nat64) return undefined;
  const [high = 0, low = 0] = groups.slice(6);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

export function createEgressPolicy(allowedNetworks: readonly string[] = []): EgressPolicy {
  const allowed = new net.BlockList();
  for (const cidr of allowedNetworks) {
    const [address = '', bits = ''] = cidr.split('/');
    const type = net.isIPv4(address) ? 'ipv4' : 'ipv6';
    allowed.addSubnet(address, Number(bits || (type === 'ipv4' ? 32 : 128)), type);
  }
  const denied = DENIED.map(([address, bits, type, why]) => {
    const list = new net.BlockList();
    list.addSubnet(address, bits, type);
    return { list, type, why };
  });

  function refusal(raw: string): string | undefined {
    const address = raw.replace(/^\[|\]$/g, '');
    const family = net.isIP(address);
    if (family === 0) return `${raw} is not an IP address`;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (allowed.check(address, type)) return undefined;
    const inner = family === 6 ? embeddedIpv4(address) : undefined;
    if (inner) return refusal(inner);
    const hit = denied.find((d) => d.type === type && d.list.check(address, type));
    return hit ? `${address} is a ${hit.why} address (allow it with SINK_ALLOWED_NETWORKS)` : undefined;
  }

  const lookup: net.LookupFunction = (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family ?? 0, hints: options.hints ?? 0 }, (err, addresses) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const refused = addresses.map((a) => refusal(a.address)).find((why) => why !== undefined);
      if (refused) {
        callback(Object.assign(new Error(`${hostname} resolves to a refused address: ${refused}`), { code: 'EGRESS_REFUSED' }), '', 0);
        return;
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };

  async function checkUrl(url: string): Promise<string | undefined> {
    let host: string;
    try {
      host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return `${url} is not a URL`;
    }
    if (net.isIP(host)) return refusal(host);
    // A name that does not resolve now is accepted: delivery checks every address it connects to.
    const resolved = await Promise.race([
      dns.promises.lookup(host, { all: true }).catch(() => []),
      new Promise<dns.LookupAddress[]>((resolve) => setTimeout(() => resolve([]), 2_000).unref()),
    ]);
    const refused = resolved.map((a) => refusal(a.address)).find((why) => why !== undefined);
    return refused && `${host} resolves to a refused address: ${refused}`;
  }

  const agents = { http: new http.Agent({ keepAlive: true, maxSockets: 64 }), https: new https.Agent({ keepAlive: true, maxSockets: 64 }) };
  return { refusal, lookup, checkUrl, agents };
}
