/** First-run setup through the HTTP API: who may create the first admin, and that it happens only once. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopback } from '../../server/shared/ip.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
const TOKEN = 'setup-token-for-this-test-run';
const admin = { email: 'first@example.com', name: 'First Admin', password: 'a long enough password' };

const setup = (payload: object, remoteAddress: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/v1/setup', payload, remoteAddress, headers });

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp({ setupToken: TOKEN });
});
afterAll(() => h.close());

describe('first-run setup', () => {
  it('recognises loopback addresses only', () => {
    expect(['127.0.0.1', '127.0.16.9', '::1', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
    expect(['10.1.2.3', '128.0.0.1', '::ffff:10.0.0.1', '', undefined, '127.0.0.1.evil'].some(isLoopback)).toBe(false);
  });

  it('refuses a non-loopback client without the token (403), also one claiming loopback in X-Forwarded-For', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/setup', remoteAddress: '10.1.2.3' })).json()).toEqual({ needed: true });
    const remote = await setup(admin, '10.1.2.3');
    expect(remote.statusCode, remote.body).toBe(403);
    expect(remote.json().error).toBe('forbidden');
    expect((await setup({ ...admin, token: 'wrong' }, '10.1.2.3')).statusCode).toBe(403);
    expect((await setup(admin, '10.1.2.3', { 'x-forwarded-for': '127.0.0.1' })).statusCode).toBe(403);
    // A local reverse proxy forwarding a remote client: the client is remote.
    expect((await setup(admin, '127.0.0.1', { 'x-forwarded-for': '10.1.2.3' })).statusCode).toBe(403);
    expect((await h.db.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(0);
  });

  it('rejects a weak password with 400 before anything is stored', async () => {
    const weak = await setup({ ...admin, password: 'short' }, '127.0.0.1');
    expect(weak.statusCode).toBe(400);
    expect((await h.db.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(0);
  });

  it('a remote client with the token creates the admin, signed in; then setup is closed for everyone (409)', async () => {
    const res = await setup({ ...admin, token: TOKEN }, '10.1.2.3');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ user: { email: admin.email, role: 'admin' }, csrfToken: expect.any(String) });
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const session = await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie } });
    expect(session.json()).toMatchObject({ principal: { role: 'admin', name: admin.email } });
    const { rows } = await h.db.query<{ role: string; account_id: string }>('SELECT role, account_id FROM users');
    expect(rows).toEqual([{ role: 'admin', account_id: '00000000-0000-0000-0000-000000000001' }]);

    expect((await app.inject({ method: 'GET', url: '/v1/setup' })).json()).toEqual({ needed: false });
    const again = await setup({ ...admin, email: 'second@example.com' }, '127.0.0.1');
    expect(again.statusCode).toBe(409);
    expect((await setup({ ...admin, email: 'third@example.com', token: TOKEN }, '10.1.2.3')).statusCode).toBe(409);
    expect((await h.db.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(1);
  });

  it('two simultaneous setups from loopback create exactly one admin', async () => {
    await h.db.query('DELETE FROM users');
    const results = await Promise.all(['a', 'b', 'c'].map((who) => setup({ ...admin, email: `${who}@example.com` }, '127.0.0.1')));
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
    expect((await h.db.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(1);
  });
});
