import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './helpers/harness.js';

let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
});
afterAll(() => h.close());

async function post(url: string, body: unknown, headers = h.adminHeaders) {
  return app.inject({ method: 'POST', url, payload: body as object, headers });
}

async function newTrunk(name = `carrier-${Math.random().toString(36).slice(2, 8)}`) {
  const res = await post('/v1/trunks', { name, addresses: ['127.0.0.1/32', '10.0.0.0/8'] });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>();
}

describe('provisioning API', () => {
  it('creates a trunk and never echoes its password', async () => {
    const res = await post('/v1/trunks', { name: 'digest-carrier', addresses: [], username: 'carrier1', password: 'secret-pass-1' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ name: 'digest-carrier', username: 'carrier1', hasPassword: true });
    expect(res.body).not.toContain('secret-pass-1');
    const list = await app.inject({ method: 'GET', url: '/v1/trunks', headers: h.adminHeaders });
    expect(list.json().items.map((t: { name: string }) => t.name)).toContain('digest-carrier');
    const one = await app.inject({ method: 'GET', url: `/v1/trunks/${res.json().id}`, headers: h.adminHeaders });
    expect(one.json().addresses).toEqual([]);
  });

  it('refuses catch-all carrier ranges, which would take other accounts’ calls', async () => {
    for (const wide of ['0.0.0.0/0', '10.0.0.0/7', '::/0', '2001::/15']) {
      const res = await post('/v1/trunks', { name: `wide-${wide}`, addresses: [wide] });
      expect(res.statusCode, wide).toBe(400);
      expect(res.json().message).toContain('too wide for a carrier');
    }
    expect((await post('/v1/trunks', { name: 'a /8 carrier', addresses: ['10.0.0.0/8'] })).statusCode).toBe(201);
  });

  it('normalises a tracking number to E.164 and rejects junk with a message', async () => {
    const trunk = await newTrunk();
    const ok = await post('/v1/numbers', { number: '+7 (495) 123-45-67', trunkId: trunk.id });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ number: '+74951234567', trunkId: trunk.id });
    expect(ok.json().id).toMatch(/^[0-9a-f-]{36}$/);

    const dup = await post('/v1/numbers', { number: '+74951234567', trunkId: trunk.id });
    expect(dup.statusCode).toBe(409);

    const junk = await post('/v1/numbers', { number: 'call me maybe', trunkId: trunk.id });
    expect(junk.statusCode).toBe(400);
    expect(junk.json()).toMatchObject({ error: 'validation_failed' });
    expect(junk.json().message).toMatch(/body\.number: .*not a valid phone number/);

    const noTrunk = await post('/v1/numbers', { number: '+74951234568', trunkId: '5f0c7b3e-1d2a-4c3b-9e8f-0a1b2c3d4e5f' });
    expect(noTrunk.statusCode).toBe(400);
    expect(noTrunk.json().message).toMatch(/trunk .* does not exist/);
  });

  it('creates a site, a pool of its numbers, and reports numbers already taken', async () => {
    const trunk = await newTrunk();
    for (const n of ['+74950000001', '+74950000002', '+74950000003']) {
      expect((await post('/v1/numbers', { number: n, trunkId: trunk.id })).statusCode).toBe(201);
    }
    const site = await post('/v1/sites', { name: 'Shop', domains: ['shop.example', 'localhost'], defaultNumber: '+7 495 000-00-00' });
    expect(site.statusCode, site.body).toBe(201);
    expect(site.json().siteKey).toMatch(/^site_/);
    expect(site.json().defaultNumber).toBe('+74950000000');

    const pool = await post('/v1/pools', { siteId: site.json().id, name: 'main', numbers: ['+74950000001', '+74950000002'], holdSeconds: 900 });
    expect(pool.statusCode, pool.body).toBe(201);
    expect(pool.json()).toMatchObject({ numbers: ['+74950000001', '+74950000002'], holdSeconds: 900, exhaustionPolicy: 'default_number' });

    const again = await post('/v1/pools', { siteId: site.json().id, name: 'second', numbers: ['+74950000002'], holdSeconds: 60 });
    expect(again.statusCode).toBe(409);
    expect(again.json().message).toContain('+74950000002');
    // The failed pool must not exist half-created.
    const pools = await app.inject({ method: 'GET', url: '/v1/pools', headers: h.adminHeaders });
    expect(pools.json().items.map((p: { name: string }) => p.name)).not.toContain('second');

    const unknown = await post('/v1/pools', { siteId: site.json().id, name: 'third', numbers: ['+74959999999'], holdSeconds: 60 });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toMatch(/not provisioned/);

    const badSite = await post('/v1/sites', { name: 'Bad', domains: ['https://shop.example/path'], defaultNumber: '+74950000000' });
    expect(badSite.statusCode).toBe(400);
    expect(badSite.json().message).toMatch(/domains/);
    // The site's address as copied from the browser is taken for its host.
    const copied = await post('/v1/sites', { name: 'Copied', domains: ['https://Shop3.example/', 'http://www.shop3.example'], defaultNumber: '+74950000000' });
    expect(copied.statusCode, copied.body).toBe(201);
    expect(copied.json().domains).toEqual(['shop3.example', 'www.shop3.example']);
  });

  it('creates a static source for an offline campaign with cost and dates', async () => {
    const trunk = await newTrunk();
    await post('/v1/numbers', { number: '+74951110001', trunkId: trunk.id });
    const res = await post('/v1/sources', {
      name: 'Metro flyer, November',
      kind: 'offline',
      channel: 'flyer',
      campaign: 'nov-metro',
      cost: 25000,
      startsOn: '2026-11-01',
      endsOn: '2026-11-30',
      numbers: ['+74951110001'],
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      kind: 'offline',
      channel: 'flyer',
      cost: 25000,
      currency: 'RUB',
      startsOn: '2026-11-01',
      endsOn: '2026-11-30',
      numbers: ['+74951110001'],
    });

    const badDates = await post('/v1/sources', { name: 'x', kind: 'offline', channel: 'radio', startsOn: '2026-11-30', endsOn: '2026-11-01' });
    expect(badDates.statusCode).toBe(400);
    expect(badDates.json().message).toMatch(/endsOn/);
    const badKind = await post('/v1/sources', { name: 'x', kind: 'tv', channel: 'radio' });
    expect(badKind.statusCode).toBe(400);
  });

  it('binds a dialplan only when the dialplan exists', async () => {
    const trunk = await newTrunk();
    await post('/v1/numbers', { number: '+74952220001', trunkId: trunk.id });
    const missing = await app.inject({
      method: 'PUT',
      url: '/v1/numbers/+74952220001/dialplan',
      payload: { dialplan: 'no-such-plan' },
      headers: h.adminHeaders,
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toContain('no-such-plan');
    const bad = await app.inject({ method: 'PUT', url: '/v1/numbers/+74952220001/dialplan', payload: { dialplan: '../etc/passwd' }, headers: h.adminHeaders });
    expect(bad.statusCode).toBe(400);
    const unbind = await app.inject({ method: 'PUT', url: '/v1/numbers/+74952220001/dialplan', payload: { dialplan: null }, headers: h.adminHeaders });
    expect(unbind.statusCode, unbind.body).toBe(200);
    const unknownNumber = await app.inject({ method: 'PUT', url: '/v1/numbers/+74952229999/dialplan', payload: { dialplan: null }, headers: h.adminHeaders });
    expect(unknownNumber.statusCode).toBe(404);
  });

  it('binds dialplans to sites, pools and sources too, 404 for unknown owners', async () => {
    const site = await post('/v1/sites', { name: 'Bind', domains: ['bind.example'], defaultNumber: '+74950000009' });
    const pool = await post('/v1/pools', { siteId: site.json().id, name: 'bind-pool', holdSeconds: 60 });
    const source = await post('/v1/sources', { name: 'Billboard', kind: 'offline', channel: 'billboard' });
    for (const url of [`/v1/sites/${site.json().id}`, `/v1/pools/${pool.json().id}`, `/v1/sources/${source.json().id}`]) {
      const ok = await app.inject({ method: 'PUT', url: `${url}/dialplan`, payload: { dialplan: 'sales' }, headers: h.adminHeaders });
      expect(ok.statusCode, `${url}: ${ok.body}`).toBe(200);
      expect((await app.inject({ method: 'GET', url, headers: h.adminHeaders })).json().dialplan).toBe('sales');
      const missing = await app.inject({ method: 'PUT', url: `${url}/dialplan`, payload: { dialplan: 'nope' }, headers: h.adminHeaders });
      expect(missing.statusCode).toBe(400);
    }
    const unknown = await app.inject({
      method: 'PUT',
      url: '/v1/pools/5f0c7b3e-1d2a-4c3b-9e8f-0a1b2c3d4e5f/dialplan',
      payload: { dialplan: 'sales' },
      headers: h.adminHeaders,
    });
    expect(unknown.statusCode).toBe(404);
    const viewer = await h.headersFor('viewer');
    expect((await app.inject({ method: 'PUT', url: `/v1/sites/${site.json().id}/dialplan`, payload: { dialplan: null }, headers: viewer })).statusCode).toBe(
      403,
    );
  });

  it('answers malformed JSON with 400 and keeps serving', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/trunks',
      payload: '{"name": ',
      headers: { ...h.adminHeaders, 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toHaveProperty('message');
    expect((await app.inject({ method: 'GET', url: '/v1/trunks', headers: h.adminHeaders })).statusCode).toBe(200);
  });
});

describe('API keys and roles', () => {
  it('401 without a key or with an unknown key', async () => {
    const none = await app.inject({ method: 'GET', url: '/v1/trunks' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error: 'unauthenticated' });
    const wrong = await app.inject({ method: 'GET', url: '/v1/trunks', headers: { authorization: 'Bearer nope-nope-nope' } });
    expect(wrong.statusCode).toBe(401);
  });

  it('403 for a role that may not act, 2xx for one that may', async () => {
    const viewer = await h.headersFor('viewer');
    const marketer = await h.headersFor('marketer');
    expect((await post('/v1/trunks', { name: 'x', addresses: ['127.0.0.1'] }, viewer)).statusCode).toBe(403);
    expect((await post('/v1/numbers', { number: '+74953330001', trunkId: '00000000-0000-0000-0000-000000000000' }, marketer)).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/v1/numbers', headers: viewer })).statusCode).toBe(200);
    expect((await post('/v1/sources', { name: 'Radio ad', kind: 'offline', channel: 'radio' }, marketer)).statusCode).toBe(201);
  });

  it('creates, uses and revokes a key', async () => {
    const created = await post('/v1/api-keys', { name: 'crm sync', role: 'manager' });
    expect(created.statusCode, created.body).toBe(201);
    const { key, id } = created.json();
    const headers = { authorization: `Bearer ${key}` };
    expect((await app.inject({ method: 'GET', url: '/v1/numbers', headers })).statusCode).toBe(200);
    const listed = await app.inject({ method: 'GET', url: '/v1/api-keys', headers: h.adminHeaders });
    expect(listed.body).not.toContain(key);
    expect((await app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: h.adminHeaders })).statusCode).toBe(204);
    const fresh = await h.buildApp();
    expect((await fresh.inject({ method: 'GET', url: '/v1/numbers', headers })).statusCode).toBe(401);
  });
});

describe('operations', () => {
  it('healthz is green with real Postgres, Redis and rtpengine', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().checks).toMatchObject({ postgres: { ok: true }, redis: { ok: true }, rtpengine: { ok: true } });
  });

  it('healthz is 503 and names rtpengine when it does not answer', async () => {
    const { createRtpengine } = await import('../server/media/rtpengine.js');
    const dead = createRtpengine({ host: '127.0.0.1', port: 9 }, 300);
    const broken = await h.buildApp({ stores: { rtpengine: dead } });
    const res = await broken.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.json().checks.rtpengine.ok).toBe(false);
    expect(res.json().checks.postgres.ok).toBe(true);
    dead.close();
  });

  it('serves Prometheus metrics and the OpenAPI document', async () => {
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('calltrack_live_calls');
    const doc = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json().paths)).toEqual(expect.arrayContaining(['/v1/trunks', '/v1/numbers', '/v1/sites', '/v1/pools', '/v1/sources']));
  });
});
