// The SIP edge's trunk ACL is the edge_trunk_addresses view (Kamailio's permissions table): every
// trunk range, and the registrar of a trunk we REGISTER with when it is an IPv4 address, so the
// carrier's calls to our contact pass the edge as they pass the nodes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h?.close();
});

const ACCOUNT = '00000000-0000-0000-0000-000000000001';
async function trunk(name: string, addresses: string[], outbound: object | null): Promise<string> {
  const { rows } = await h.db.query<{ id: string }>('INSERT INTO trunks (account_id, name, addresses, outbound) VALUES ($1, $2, $3, $4) RETURNING id', [
    ACCOUNT,
    name,
    addresses,
    outbound,
  ]);
  return rows[0]!.id;
}

describe('edge_trunk_addresses', () => {
  it('lists trunk ranges and an IPv4 registrar, and no host name or address that is none', async () => {
    const byRange = await trunk('by-range', ['198.51.100.0/24'], null);
    const registered = await trunk('registered', [], { host: '203.0.113.7', port: 5060, username: 'u', password: 'p', register: true });
    const byName = await trunk('by-name', [], { host: 'sip.carrier.example', port: 5060, username: 'u', password: 'p', register: true });
    const notAnAddress = await trunk('not-an-address', [], { host: '999.1.1.1', port: 5060, username: 'u', password: 'p', register: true });
    const outboundOnly = await trunk('outbound-only', [], { host: '203.0.113.8', port: 5060, register: false });
    const { rows } = await h.db.query<{ grp: number; ip_addr: string; mask: number; tag: string }>(
      'SELECT grp, ip_addr, mask, tag FROM edge_trunk_addresses WHERE grp = 1',
    );
    const of = (id: string) => rows.filter((r) => r.tag === id).map((r) => `${r.ip_addr}/${r.mask}`);
    expect(of(byRange)).toEqual(['198.51.100.0/24']);
    expect(of(registered)).toEqual(['203.0.113.7/32']);
    expect(of(byName)).toEqual([]);
    expect(of(notAnAddress)).toEqual([]);
    expect(of(outboundOnly)).toEqual([]);
  });
});
