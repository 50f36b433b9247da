/** Numbers at scale through the API: paging, search by digits in any format, groups, bulk add with a per-line report. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
let trunkId: string;
let poolId: string;
let sourceId: string;

const get = (url: string, headers = h.adminHeaders) => app.inject({ method: 'GET', url, headers });
const post = (url: string, payload: unknown, headers: Record<string, string> = h.adminHeaders) =>
  app.inject({ method: 'POST', url, payload: payload as object, headers });
const count = async () => (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM numbers')).rows[0]!.n;

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  trunkId = (await post('/v1/trunks', { name: 'carrier', addresses: ['127.0.16.1/32'] })).json().id;
  // 250 numbers +74957000000…+74957000249 in one bulk request, then a pool takes 10 and a source 5.
  const lines = Array.from({ length: 250 }, (_, i) => `+7495700${String(i).padStart(4, '0')}`);
  const bulk = await post('/v1/numbers/bulk', { trunkId, lines });
  expect(bulk.statusCode, bulk.body).toBe(200);
  expect(bulk.json().added).toHaveLength(250);
  const site = await post('/v1/sites', { name: 'shop', domains: ['shop.example'], defaultNumber: '+74950000000' });
  expect(site.statusCode, site.body).toBe(201);
  const pool = await post('/v1/pools', { siteId: site.json().id, name: 'web', holdSeconds: 60, numbers: lines.slice(0, 10) });
  expect(pool.statusCode, pool.body).toBe(201);
  poolId = pool.json().id;
  const source = await post('/v1/sources', { name: 'Flyer', kind: 'offline', channel: 'flyer', numbers: lines.slice(10, 15) });
  expect(source.statusCode, source.body).toBe(201);
  sourceId = source.json().id;
});
afterAll(() => h.close());

describe('GET /v1/numbers at scale', () => {
  it('pages in E.164 order with a cursor and a total, every number exactly once', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/v1/numbers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { items: { number: string }[]; total: number; nextCursor: string | null };
      expect(body.total).toBe(250);
      seen.push(...body.items.map((n) => n.number));
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect([...seen].sort()).toEqual(seen);
    // Without limit: the first 100, so an old client never pulls 5,000 rows by accident.
    expect((await get('/v1/numbers')).json().items).toHaveLength(100);
  });

  it('searches by digits in any format', async () => {
    const numbersFor = async (q: string) =>
      ((await get(`/v1/numbers?q=${encodeURIComponent(q)}`)).json() as { items: { number: string }[] }).items.map((n) => n.number);
    expect(await numbersFor('+7 (495) 700-01-23')).toEqual(['+74957000123']);
    expect(await numbersFor('8 495 700 01 23')).toEqual(['+74957000123']);
    expect(await numbersFor('0123')).toEqual(['+74957000123']);
    expect(await numbersFor('12-3')).toEqual(['+74957000123']);
    expect(await numbersFor('700-024')).toEqual(Array.from({ length: 10 }, (_, i) => `+7495700024${i}`));
    expect(await numbersFor('999999')).toEqual([]);
    const noDigits = await get('/v1/numbers?q=abc');
    expect(noDigits.statusCode).toBe(400);
    expect(noDigits.json().message).toContain('at least one digit');
  });

  it('filters by pool, source or free, and reports the groups with their counts', async () => {
    const totalOf = async (query: string) => (await get(`/v1/numbers?${query}`)).json().total as number;
    expect(await totalOf(`poolId=${poolId}`)).toBe(10);
    expect(await totalOf(`sourceId=${sourceId}`)).toBe(5);
    expect(await totalOf('free=true')).toBe(235);
    expect(await totalOf('q=0000005')).toBe(1); // +74957000005, in the pool
    expect(await totalOf('free=true&q=0000005')).toBe(0);
    expect(await totalOf('free=true&q=700005')).toBe(10); // +7495700005x
    expect((await get(`/v1/numbers?poolId=${poolId}&free=true`)).statusCode).toBe(400);
    const groups = (await get('/v1/numbers/groups')).json().items;
    expect(groups).toEqual([
      { kind: 'free', id: null, name: 'Free numbers', count: 235 },
      { kind: 'pool', id: poolId, name: 'web', count: 10 },
      { kind: 'source', id: sourceId, name: 'Flyer', count: 5 },
    ]);
    const viewer = await h.headersFor('viewer');
    expect((await get('/v1/numbers?limit=5', viewer)).statusCode).toBe(200);
  });
});

describe('POST /v1/numbers/bulk', () => {
  it('3 good lines and 2 bad ones store the 3 numbers and name the 2 bad lines', async () => {
    const before = await count();
    const text = ['+7 495 800-00-01', 'not a phone', '+74958000002', '', '+7 495 800 00 01', '8 (495) 800-00-03'].join('\n');
    const res = await post('/v1/numbers/bulk', { trunkId, text, defaultCountry: 'ru' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      added: [
        { line: 1, number: '+74958000001' },
        { line: 3, number: '+74958000002' },
        { line: 6, number: '+74958000003' },
      ],
      rejected: [
        { line: 2, text: 'not a phone', reason: '"not a phone" is not a valid phone number' },
        { line: 5, text: '+7 495 800 00 01', reason: '+74958000001 repeats line 1' },
      ],
    });
    expect(await count()).toBe(before + 3);
  });

  it('takes a CSV body as it is, and reports numbers already provisioned', async () => {
    const before = await count();
    const res = await app.inject({
      method: 'POST',
      url: `/v1/numbers/bulk?trunkId=${trunkId}`,
      headers: { ...h.adminHeaders, 'content-type': 'text/csv' },
      payload: 'number;campaign\n+74958000001;old\n+74958000004;new\n',
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      added: [{ line: 3, number: '+74958000004' }],
      rejected: [{ line: 2, text: '+74958000001;old', reason: '+74958000001 is already provisioned' }],
    });
    expect(await count()).toBe(before + 1);
    const noTrunk = await app.inject({
      method: 'POST',
      url: '/v1/numbers/bulk',
      headers: { ...h.adminHeaders, 'content-type': 'text/plain' },
      payload: '+74958000009',
    });
    expect(noTrunk.statusCode).toBe(400);
  });

  it('nothing is half-added: an unknown trunk stores none of the good lines', async () => {
    const before = await count();
    const res = await post('/v1/numbers/bulk', { trunkId: '5f0c7b3e-1d2a-4c3b-9e8f-0a1b2c3d4e5f', lines: ['+74958000011', '+74958000012'] });
    expect(res.statusCode).toBe(400);
    expect(await count()).toBe(before);
    expect((await post('/v1/numbers/bulk', { trunkId, lines: ['+74958000013'], text: '+74958000014' })).statusCode).toBe(400);
    expect((await post('/v1/numbers/bulk', { trunkId, lines: ['+74958000013'] }, await h.headersFor('marketer'))).statusCode).toBe(403);
    expect(await count()).toBe(before);
  });
});
