import { describe, expect, it } from 'vitest';
import { ipv6Groups, isLoopback, unmapIpv4 } from './ip.js';

describe('ip', () => {
  it('reads IPv6 groups, with :: and a dotted IPv4 tail', () => {
    expect(ipv6Groups('2001:db8::1')).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('::ffff:127.0.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]);
    expect(ipv6Groups('10.0.0.1')).toBeUndefined();
  });

  it('unmaps IPv4-mapped addresses only', () => {
    expect(unmapIpv4('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(unmapIpv4('2001:db8::1')).toBe('2001:db8::1');
  });

  it('knows this host’s own addresses', () => {
    for (const own of ['127.0.0.1', '127.3.2.1', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.2']) expect(isLoopback(own), own).toBe(true);
    for (const other of ['128.0.0.1', '10.0.0.1', '::2', '::', '::ffff:10.0.0.1', '2001:db8::1', 'localhost', '']) expect(isLoopback(other), other).toBe(false);
  });
});
