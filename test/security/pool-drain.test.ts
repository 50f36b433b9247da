/** One client cannot drain a pool: per-address and per-network caps on concurrent leases, counted in pool usage. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionPool, type Provisioned } from '../dni/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { eventually } from '../leads/lead-fixtures.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const PER_IP = 3;
const PER_SUBNET = 5;
let h: Harness;
let app: FastifyInstance;
let p: Provisioned;

beforeAll(async () => {
  h = await createHarness({ DNI_MAX_LEASES_PER_IP: String(PER_IP), DNI_MAX_LEASES_PER_SUBNET: String(PER_SUBNET) });
  app = await h.buildApp();
  p = await provisionPool(h, app, { size: 40, holdSeconds: 60, domains: ['shop.example'] });
});
afterAll(() => h.close());

const create = async (ip: string, body: object = {}, headers: Record<string, string> = {}) => {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/dni/sessions',
    remoteAddress: ip,
    headers: { origin: 'https://shop.example', 'user-agent': UA, 'content-type': 'text/plain', ...headers },
    payload: JSON.stringify({ siteKey: p.siteKey, url: 'https://shop.example/', ...body }),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { sessionId: string; number: string; tracking: boolean; reason?: string };
};
const tracked = (list: { tracking: boolean }[]) => list.filter((s) => s.tracking).length;

describe('pool-drain protection', () => {
  it('one address holds at most its cap; its /24 at most the network cap; others are unaffected', async () => {
    const first: Awaited<ReturnType<typeof create>>[] = [];
    for (let i = 0; i < PER_IP + 3; i++) first.push(await create('198.51.100.7'));
    expect(tracked(first)).toBe(PER_IP);
    const refused = first.filter((s) => !s.tracking);
    expect(refused.every((s) => s.number === p.defaultNumber && s.reason === 'too many numbers held from this network')).toBe(true);

    // A keep-alive of a refused session does not sneak a lease in.
    const keep = await app.inject({
      method: 'POST',
      url: `/v1/dni/sessions/${refused[0]!.sessionId}/keepalive`,
      remoteAddress: '198.51.100.7',
      headers: { origin: 'https://shop.example', 'user-agent': UA },
    });
    expect(keep.json()).toMatchObject({ tracking: false, number: p.defaultNumber });

    // A neighbour in the same /24 gets what is left of the network cap.
    const neighbour = [await create('198.51.100.8'), await create('198.51.100.8'), await create('198.51.100.8')];
    expect(tracked(neighbour)).toBe(PER_SUBNET - PER_IP);
    // Another network is not affected.
    expect((await create('203.0.113.9')).tracking).toBe(true);
    // IPv6: one /64 is one client, whatever the interface id.
    const v6 = [await create('2001:db8:1:2::1'), await create('2001:db8:1:2::2'), await create('2001:db8:1:2:ffff::3'), await create('2001:db8:1:2::4')];
    expect(tracked(v6)).toBe(PER_IP);

    const refusals = 3 + 1 + 1 + 1; // over the address cap, the keep-alive, the neighbour, IPv6
    const usage = await eventually(async () => {
      const res = await app.inject({ method: 'GET', url: `/v1/pools/${p.poolId}/usage`, headers: h.adminHeaders });
      const body = res.json();
      return body.refusedByClientCap === refusals ? body : undefined;
    });
    expect(usage.warning).toContain(`${refusals} request(s) refused`);
  });

  it('a proxy on this host: its visitors are capped by the address it names, and not at all when it names none', async () => {
    // nginx beside the server sends X-Forwarded-For (loopback is a trusted proxy by default).
    const viaProxy = [];
    for (let i = 0; i < PER_IP + 2; i++) viaProxy.push(await create('127.0.0.1', {}, { 'x-forwarded-for': '100.64.1.1' }));
    expect(tracked(viaProxy)).toBe(PER_IP);
    expect((await create('127.0.0.1', {}, { 'x-forwarded-for': '100.65.2.2' })).tracking).toBe(true);
    // One that names nobody (or a local load generator): every visitor shares its address, so capping
    // it would leave all but the first few with the default number.
    const local = [];
    for (let i = 0; i < PER_SUBNET + 2; i++) local.push(await create('127.0.0.1'));
    expect(tracked(local)).toBe(PER_SUBNET + 2);
    expect(tracked([await create('::1'), await create('::ffff:127.0.0.2')])).toBe(2);
  });

  it('parallel requests of one client cannot all pass the check', async () => {
    const burst = await Promise.all(Array.from({ length: 12 }, () => create('192.0.2.44')));
    expect(tracked(burst)).toBe(PER_IP);
  });
});
