import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../server/redis/client.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { provisionPool, type Provisioned } from './fixtures.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
let h: Harness;
let app: FastifyInstance;
let p: Provisioned;

beforeAll(async () => {
  h = await createHarness({ DNI_RATE_LIMIT_PER_MINUTE: '30' });
  app = await h.buildApp();
  p = await provisionPool(h, app, { size: 5, holdSeconds: 30, domains: ['shop.example'] });
});
afterAll(() => h.close());

const create = (body: object, headers: Record<string, string> = {}, ip = '10.1.0.1') =>
  app.inject({
    method: 'POST',
    url: '/v1/dni/sessions',
    remoteAddress: ip,
    headers: { origin: 'https://www.shop.example', 'user-agent': UA, 'content-type': 'text/plain', ...headers },
    payload: JSON.stringify({
      siteKey: p.siteKey,
      url: 'https://www.shop.example/landing?utm_source=google&utm_medium=cpc&utm_campaign=spring&gclid=abc123&fbclid=fb1',
      ...body,
    }),
  });

describe('POST /v1/dni/sessions', () => {
  it('leases a tracking number, sets the visitor cookie and CORS for the site origin, stores the visit', async () => {
    const res = await create({ referrer: 'https://www.google.com/', gaClientId: '111.222', ymClientId: '333' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ tracking: true, defaultNumber: p.defaultNumber, keepAliveSeconds: 10 });
    expect(p.numbers).toContain(body.number);
    expect(res.headers['access-control-allow-origin']).toBe('https://www.shop.example');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(String(res.headers['set-cookie'])).toMatch(/^ct_vid=[A-Za-z0-9_-]{16,}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    await new Promise((r) => setTimeout(r, 100));
    const row = await h.db.query('SELECT * FROM dni_sessions WHERE id = $1', [body.sessionId]);
    expect(row.rows[0]).toMatchObject({
      utm_source: 'google',
      utm_medium: 'cpc',
      utm_campaign: 'spring',
      gclid: 'abc123',
      fbclid: 'fb1',
      ga_client_id: '111.222',
      ym_client_id: '333',
      referrer: 'https://www.google.com/',
      bot: false,
      number: body.number,
    });
  });

  it('keeps the visitor id from the cookie; the next page view is a session of its own with the visitor’s number', async () => {
    const first = await create({}, { cookie: 'ct_vid=visitor-abcdef123' });
    const second = await create({ sessionId: first.json().sessionId, url: 'https://www.shop.example/page2' }, { cookie: 'ct_vid=visitor-abcdef123' });
    expect(second.json()).toMatchObject({ number: first.json().number, tracking: true });
    expect(second.json().sessionId).not.toBe(first.json().sessionId);
    expect(String(second.headers['set-cookie'])).toContain('ct_vid=visitor-abcdef123;');
    await new Promise((r) => setTimeout(r, 100));
    const row = await h.db.query('SELECT visitor_id FROM dni_sessions WHERE id = $1', [first.json().sessionId]);
    expect(row.rows[0].visitor_id).toBe('visitor-abcdef123');
  });

  it('refuses origins outside the site domains', async () => {
    const res = await create({}, { origin: 'https://evil.example' });
    expect(res.statusCode).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect((await create({}, { origin: 'https://notshop.example' })).statusCode).toBe(403);
  });

  it('a site’s own backend (no Origin, an HTTP library as user agent) gets a lease for a page of the site, not for another site’s', async () => {
    const serverSide = (url: string, headers: Record<string, string> = {}) =>
      app.inject({
        method: 'POST',
        url: '/v1/dni/sessions',
        remoteAddress: '10.3.0.1',
        headers: { 'user-agent': 'python-requests/2.31.0', 'content-type': 'application/json', ...headers },
        payload: JSON.stringify({ siteKey: p.siteKey, url, visitorId: 'backend-visitor-1' }),
      });
    const ok = await serverSide('https://www.shop.example/catalog?utm_source=yandex');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ tracking: true });
    expect(p.numbers).toContain(ok.json().number);
    expect(ok.headers['access-control-allow-origin']).toBeUndefined();
    const keep = await app.inject({ method: 'POST', url: `/v1/dni/sessions/${ok.json().sessionId}/keepalive`, remoteAddress: '10.3.0.1' });
    expect(keep.statusCode, keep.body).toBe(200);
    expect(keep.json().number).toBe(ok.json().number);
    expect((await serverSide('https://evil.example/')).statusCode).toBe(403);
    // A Referer says which page asks, before the body does.
    expect((await serverSide('https://www.shop.example/', { referer: 'https://evil.example/page' })).statusCode).toBe(403);
    const keepFromElsewhere = await app.inject({
      method: 'POST',
      url: `/v1/dni/sessions/${ok.json().sessionId}/keepalive`,
      remoteAddress: '10.3.0.1',
      headers: { origin: 'https://evil.example' },
    });
    expect(keepFromElsewhere.statusCode).toBe(403);
  });

  it('gives robots the default number and no lease', async () => {
    const res = await create({}, { 'user-agent': 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' });
    expect(res.json()).toMatchObject({ sessionId: null, number: p.defaultNumber, tracking: false, reason: 'robot user agent' });
  });

  it('shows the default number when the pool is exhausted and counts it', async () => {
    const q = await provisionPool(h, app, { size: 1, holdSeconds: 30, domains: ['shop.example'] });
    const a = await create({ siteKey: q.siteKey }, {}, '10.2.0.1');
    const b = await create({ siteKey: q.siteKey }, {}, '10.2.0.2');
    expect(a.json().tracking).toBe(true);
    expect(b.json()).toMatchObject({ tracking: false, number: q.defaultNumber, reason: 'pool exhausted' });
    await new Promise((r) => setTimeout(r, 100));
    const ev = await h.db.query('SELECT count(*)::int AS n FROM pool_exhaustion_events WHERE pool_id = $1', [q.poolId]);
    expect(ev.rows[0].n).toBe(1);
  });

  it('rate limits per IP', async () => {
    const codes = [];
    for (let i = 0; i < 32; i++) codes.push((await create({ siteKey: 'site_unknown' }, {}, '10.9.9.9')).statusCode);
    expect(codes.slice(0, 30).every((c) => c === 404)).toBe(true);
    expect(codes.slice(30)).toEqual([429, 429]);
    expect((await create({ siteKey: 'site_unknown' }, {}, '10.9.9.10')).statusCode).toBe(404);
  });

  it('does not rate limit loopback: a proxy on this host that names no visitor, or a local test', async () => {
    const codes = [];
    for (let i = 0; i < 35; i++) codes.push((await create({ siteKey: 'site_unknown' }, {}, '127.0.0.1')).statusCode);
    expect(codes.every((c) => c === 404)).toBe(true);
  });
});

describe('keep-alive', () => {
  it('extends the lease and answers 404 for unknown sessions', async () => {
    const s = (await create({}, {}, '10.3.0.1')).json();
    expect(s.tracking).toBe(true);
    const res = await app.inject({
      method: 'POST',
      url: `/v1/dni/sessions/${s.sessionId}/keepalive`,
      headers: { origin: 'https://shop.example', 'user-agent': UA },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ number: s.number, tracking: true });
    expect(Date.parse(res.json().expiresAt)).toBeGreaterThanOrEqual(Date.parse(s.expiresAt));
    const unknown = await app.inject({
      method: 'POST',
      url: '/v1/dni/sessions/5f0c7b3e-1d2a-4c3b-9e8f-0a1b2c3d4e5f/keepalive',
      headers: { origin: 'https://shop.example' },
    });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('Redis down', () => {
  it('answers with the default number (never an error or a blank) and attribution still reads Postgres', async () => {
    const dead = createRedis({ url: 'redis://127.0.0.1:1', prefix: 'dead:' });
    const down = await h.buildApp({ stores: { redis: dead } });
    const res = await down.inject({
      method: 'POST',
      url: '/v1/dni/sessions',
      headers: { origin: 'https://shop.example', 'user-agent': UA, 'content-type': 'text/plain' },
      payload: JSON.stringify({ siteKey: p.siteKey, url: 'https://shop.example/' }),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ number: p.defaultNumber, tracking: false, reason: 'lease service unavailable' });
    dead.disconnect();
  });
});

describe('GET /dni.js', () => {
  it('serves the snippet with caching headers and answers 304 to its ETag', async () => {
    const res = await app.inject({ method: 'GET', url: '/dni.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toMatch(/max-age=300/);
    expect(res.body).toContain('data-site-key');
    const again = await app.inject({ method: 'GET', url: '/dni.js', headers: { 'if-none-match': String(res.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });
});
