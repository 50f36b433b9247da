/** Users, cookie sessions and CSRF through the HTTP API (no browser): the security properties the UI relies on. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserService } from '../../server/users/users.service.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
const PASSWORD = 'a long enough password';

const cookieOf = (setCookie: string | string[] | undefined) => String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0]!;

async function signIn(email: string, password = PASSWORD, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/v1/auth/sign-in', payload: { email, password }, headers });
}

beforeAll(async () => {
  // app.inject() connects from 127.0.0.1: trusting it as a proxy lets the tests set X-Forwarded-For/-Proto.
  h = await createHarness({ TRUSTED_PROXIES: '127.0.0.1' });
  const users = createUserService({ db: h.db, secret: h.config.secretKey });
  app = await h.buildApp({ overrides: { users } });
  for (const role of ['admin', 'viewer'] as const) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: h.adminHeaders,
      payload: { email: `${role}@Example.com`, name: role, role, password: PASSWORD },
    });
    expect(res.statusCode, res.body).toBe(201);
  }
});
afterAll(() => h.close());

describe('users and sessions', () => {
  it('stores only a bcrypt hash and rejects duplicates, weak passwords and non-admins', async () => {
    const { rows } = await h.db.query<{ password_hash: string; email: string }>("SELECT password_hash, email FROM users WHERE role = 'admin'");
    expect(rows[0]!.email).toBe('admin@example.com');
    expect(rows[0]!.password_hash).toMatch(/^\$2[aby]\$10\$/);
    expect(rows[0]!.password_hash).not.toContain(PASSWORD);
    const dup = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: h.adminHeaders,
      payload: { email: 'ADMIN@example.com', name: 'x', role: 'viewer', password: PASSWORD },
    });
    expect(dup.statusCode).toBe(409);
    const weak = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: h.adminHeaders,
      payload: { email: 'w@example.com', name: 'x', role: 'viewer', password: 'short' },
    });
    expect(weak.statusCode).toBe(400);
    const asViewer = await app.inject({ method: 'GET', url: '/v1/users', headers: await h.headersFor('viewer') });
    expect(asViewer.statusCode).toBe(403);
  });

  it('signs in with an HttpOnly, SameSite=Lax cookie (Secure behind https) and rejects wrong passwords', async () => {
    const ok = await signIn('admin@example.com');
    expect(ok.statusCode).toBe(200);
    const set = String(ok.headers['set-cookie']);
    expect(set).toMatch(/ct_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect(ok.json()).toMatchObject({ user: { email: 'admin@example.com', role: 'admin' }, csrfToken: expect.any(String) });
    const https = await signIn('admin@example.com', PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(String(https.headers['set-cookie'])).toContain('; Secure');
    const wrong = await signIn('admin@example.com', 'not the password');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect((await signIn('nobody@example.com')).statusCode).toBe(401);
  });

  it('the cookie authenticates /v1 with the user role; mutations need the CSRF header', async () => {
    const res = await signIn('viewer@example.com');
    const cookie = cookieOf(res.headers['set-cookie']);
    const csrf = res.json().csrfToken as string;
    const session = await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie } });
    expect(session.json()).toMatchObject({ principal: { role: 'viewer', name: 'viewer@example.com' }, csrfToken: csrf });
    expect((await app.inject({ method: 'GET', url: '/v1/numbers', headers: { cookie } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/v1/trunks', headers: { cookie } })).statusCode).toBe(403);

    const adminRes = await signIn('admin@example.com');
    const adminCookie = cookieOf(adminRes.headers['set-cookie']);
    const body = { name: 'k', role: 'viewer' };
    const noHeader = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: { cookie: adminCookie }, payload: body });
    expect(noHeader.statusCode).toBe(403);
    const wrongHeader = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: { cookie: adminCookie, 'x-csrf-token': csrf }, payload: body });
    expect(wrongHeader.statusCode).toBe(403); // another session's token
    const good = await app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { cookie: adminCookie, 'x-csrf-token': adminRes.json().csrfToken },
      payload: body,
    });
    expect(good.statusCode).toBe(201);
    expect((await app.inject({ method: 'GET', url: '/v1/numbers', headers: { cookie: 'ct_session=forged' } })).statusCode).toBe(401);
  });

  it('sign-out and disabling end sessions; a disabled user cannot sign in', async () => {
    const first = cookieOf((await signIn('viewer@example.com')).headers['set-cookie']);
    const out = await app.inject({ method: 'POST', url: '/v1/auth/sign-out', headers: { cookie: first } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
    expect((await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: first } })).statusCode).toBe(401);

    const second = cookieOf((await signIn('viewer@example.com')).headers['set-cookie']);
    expect((await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: second } })).statusCode).toBe(200);
    const list = (await app.inject({ method: 'GET', url: '/v1/users', headers: h.adminHeaders })).json().items as { id: string; email: string }[];
    const viewer = list.find((u) => u.email === 'viewer@example.com')!;
    const disabled = await app.inject({ method: 'PATCH', url: `/v1/users/${viewer.id}`, headers: h.adminHeaders, payload: { disabled: true } });
    expect(disabled.json()).toMatchObject({ disabled: true });
    expect((await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: second } })).statusCode).toBe(401);
    expect((await signIn('viewer@example.com')).statusCode).toBe(401);
    await app.inject({ method: 'PATCH', url: `/v1/users/${viewer.id}`, headers: h.adminHeaders, payload: { disabled: false } });
    expect((await signIn('viewer@example.com')).statusCode).toBe(200);
  });

  it('throttles repeated wrong passwords per e-mail and address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await signIn('admin@example.com', `wrong-${i}`, { 'x-forwarded-for': '10.9.9.9' })).statusCode);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    expect((await signIn('admin@example.com', PASSWORD, { 'x-forwarded-for': '10.9.9.9' })).statusCode).toBe(429);
    expect((await signIn('admin@example.com', PASSWORD)).statusCode).toBe(200); // another address is not locked out
  });
});
