/** Routing is admin-only: marketers may create sites and sources but not bind dialplans or release numbers. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberBlock } from '../dni/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
let marketer: { authorization: string };
let trunkId: string;

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  marketer = await h.headersFor('marketer');
  const trunk = await app.inject({ method: 'POST', url: '/v1/trunks', headers: h.adminHeaders, payload: { name: 'roles', addresses: ['127.0.14.1/32'] } });
  trunkId = trunk.json().id;
});
afterAll(() => h.close());

const post = (url: string, payload: object, headers: { authorization: string }) => app.inject({ method: 'POST', url, payload, headers });

describe('routing is admin-only', () => {
  it('a marketer sending a dialplan with a new site or source gets 403; without one the request passes', async () => {
    const [siteNumber] = numberBlock(1);
    const site = { name: 'shop', domains: ['shop.example'], defaultNumber: siteNumber };
    const routed = await post('/v1/sites', { ...site, dialplan: 'sales' }, marketer);
    expect(routed.statusCode).toBe(403);
    expect(routed.json().message).toContain('admin');
    expect((await post('/v1/sites', site, marketer)).statusCode).toBe(201);
    expect((await post('/v1/sites', { ...site, dialplan: 'sales' }, h.adminHeaders)).statusCode).toBe(201);

    const source = { name: 'Radio', kind: 'offline', channel: 'radio' };
    expect((await post('/v1/sources', { ...source, dialplan: 'sales' }, marketer)).statusCode).toBe(403);
    expect((await post('/v1/sources', source, marketer)).statusCode).toBe(201);
    expect((await post('/v1/sources', { ...source, dialplan: 'sales' }, h.adminHeaders)).statusCode).toBe(201);
    const { rows } = await h.db.query('SELECT count(*)::int AS n FROM sources WHERE dialplan IS NOT NULL');
    expect(rows[0].n).toBe(1);
  });

  it('only an admin releases a static source’s numbers', async () => {
    const [number] = numberBlock(1);
    expect((await post('/v1/numbers', { number, trunkId }, h.adminHeaders)).statusCode).toBe(201);
    const source = await post('/v1/sources', { name: 'Flyer', kind: 'offline', channel: 'print', numbers: [number] }, marketer);
    expect(source.statusCode, source.body).toBe(201);
    const release = (headers: { authorization: string }) => post(`/v1/sources/${source.json().id}/release`, { numbers: [number], quarantineDays: 30 }, headers);
    expect((await release(marketer)).statusCode).toBe(403);
    expect((await release(h.adminHeaders)).statusCode).toBe(200);
  });
});
