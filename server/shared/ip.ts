import net from 'node:net';

/** The eight 16-bit groups of an IPv6 address (zone dropped, dotted IPv4 tail converted), or undefined. */
export function ipv6Groups(address: string): number[] | undefined {
  if (!net.isIPv6(address)) return undefined;
  let text = address.split('%')[0]!.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1]!.split('.').map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<number>(zeros).fill(0), ...right];
}

/** The IPv4 address inside an IPv4-mapped IPv6 address (::ffff:a.b.c.d), as a dual-stack socket reports IPv4 peers. */
export function unmapIpv4(address: string): string {
  const groups = ipv6Groups(address);
  if (!groups) return address;
  if (!groups.slice(0, 5).every((g) => g === 0) || groups[5] !== 0xffff) return address;
  const [high = 0, low = 0] = groups.slice(6);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/** Whether an address is this host's own (127.0.0.0/8, ::1, or IPv4 loopback mapped into IPv6); none is not. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const ip = unmapIpv4(address);
  if (net.isIPv4(ip)) return ip.startsWith('127.');
  const groups = ipv6Groups(ip) ?? [];
  return groups.length === 8 && groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
}
