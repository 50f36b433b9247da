import { describe, expect, it } from 'vitest';
import { createEgressPolicy } from './egress.js';

describe(createEgressPolicy.name, () => {
  const deny = createEgressPolicy();

  it('refuses loopback, private, link-local, CGNAT, multicast and unspecified addresses in IPv4 and IPv6', () => {
    const refused = [
      '127.0.0.1',
      '127.255.0.9',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.254',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '224.0.0.1',
      '255.255.255.255',
      '0.0.0.0',
      '::',
      '::1',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::10.0.0.1',
      '[::1]',
    ];
    for (const address of refused) expect(deny.refusal(address), address).toBeDefined();
    expect(deny.refusal('169.254.169.254')).toContain('link-local');
  });

  it('lets public unicast addresses through', () => {
    for (const address of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) {
      expect(deny.refusal(address), address).toBeUndefined();
    }
  });

  it('opens only the configured networks', () => {
    const allow = createEgressPolicy(['127.0.0.0/8', 'fd00::/8']);
    expect(allow.refusal('127.0.0.1')).toBeUndefined();
    expect(allow.refusal('::ffff:127.0.0.1')).toBeUndefined();
    expect(allow.refusal('fd00::5')).toBeUndefined();
    expect(allow.refusal('10.0.0.1')).toBeDefined();
    expect(allow.refusal('169.254.169.254')).toBeDefined();
  });

  it('checks URLs by literal address and by what a name resolves to', async () => {
    expect(await deny.checkUrl('http://127.0.0.1:8080/hook')).toContain('loopback');
    expect(await deny.checkUrl('http://[::1]/hook')).toBeDefined();
    expect(await deny.checkUrl('http://2130706433/')).toContain('loopback'); // the URL parser normalises it to 127.0.0.1
    expect(await deny.checkUrl('http://localhost:9/hook')).toContain('localhost resolves to a refused address');
    expect(await deny.checkUrl('https://203.0.113.10/hook')).toBeUndefined();
  });
});
