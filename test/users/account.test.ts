/** Sessions a user can see and end, "sign out everywhere", and forgot-password through a one-time link in the server log. */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
const PASSWORD = 'a long enough password';
const NEW_PASSWORD = 'a brand new password';
const logLines: string[] = [];

const cookieOf = (res: { headers: Record<string, unknown> }) => String(res.headers['set-cookie']).split(';')[0]!;
const signIn = (email: string, password = PASSWORD, ua = 'test-agent') =>
  app.inject({ method: 'POST', url: '/v1/auth/sign-in', payload: { email, password }, headers: { 'user-agent': ua } });
const resetLinks = () => logLines.map((l) => JSON.parse(l)).filter((l) => l.type === 'password_reset_link');

beforeAll(async () => {
  h = await createHarness({ PUBLIC_BASE_URL: 'http://ui.test' });
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  app = await h.buildApp({ stores: { logger } });
  for (const role of ['admin', 'viewer'] as const) {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/users',
      headers: h.adminHeaders,
      payload: { email: `${role}@example.com`, name: role, role, password: PASSWORD },
    });
    expect(res.statusCode, res.body).toBe(201);
  }
});
afterAll(() => h.close());

describe('session list and sign out everywhere', () => {
  it('lists my sessions with the current one marked, ends one, then all of them', async () => {
    const laptop = cookieOf(await signIn('viewer@example.com', PASSWORD, 'Laptop Chrome'));
    const phone = cookieOf(await signIn('viewer@example.com', PASSWORD, 'Phone Safari'));
    const other = cookieOf(await signIn('admin@example.com'));
    const list = await app.inject({ method: 'GET', url: '/v1/auth/sessions', headers: { cookie: laptop } });
    expect(list.statusCode, list.body).toBe(200);
    const items = list.json().items as { id: string; userAgent: string; current: boolean }[];
    expect(items.map((s) => [s.userAgent, s.current]).sort()).toEqual([
      ['Laptop Chrome', true],
      ['Phone Safari', false],
    ]);
    expect(list.body).not.toContain(laptop.split('=')[1]!);

    const csrf = (await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: laptop } })).json().csrfToken;
    const phoneId = items.find((s) => !s.current)!.id;
    const end = await app.inject({ method: 'DELETE', url: `/v1/auth/sessions/${phoneId}`, headers: { cookie: laptop, 'x-csrf-token': csrf } });
    expect(end.statusCode, end.body).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: phone } })).statusCode).toBe(401);
    // Someone else's session id is not found, and a session needs the CSRF header to end another.
    const adminId = (await app.inject({ method: 'GET', url: '/v1/auth/sessions', headers: { cookie: other } })).json().items[0].id;
    expect((await app.inject({ method: 'DELETE', url: `/v1/auth/sessions/${adminId}`, headers: { cookie: laptop, 'x-csrf-token': csrf } })).statusCode).toBe(
      404,
    );
    expect((await app.inject({ method: 'DELETE', url: `/v1/auth/sessions/${adminId}`, headers: { cookie: laptop } })).statusCode).toBe(403);

    const second = cookieOf(await signIn('viewer@example.com', PASSWORD, 'Tablet'));
    const everywhere = await app.inject({ method: 'POST', url: '/v1/auth/sign-out-everywhere', headers: { cookie: laptop, 'x-csrf-token': csrf } });
    expect(everywhere.statusCode, everywhere.body).toBe(204);
    expect(String(everywhere.headers['set-cookie'])).toContain('Max-Age=0');
    for (const cookie of [laptop, second]) expect((await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie } })).statusCode).toBe(401);
    // Another user's session is untouched.
    expect((await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: other } })).statusCode).toBe(200);
    // An API key has no sessions to list.
    expect((await app.inject({ method: 'GET', url: '/v1/auth/sessions', headers: h.adminHeaders })).statusCode).toBe(400);
  });
});

describe('forgot password (admins)', () => {
  it('prints a one-time link in the log for an admin only, and answers the same for anyone', async () => {
    const ask = (email: string) => app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email }, remoteAddress: '127.0.16.3' });
    const answers = await Promise.all(['admin@example.com', 'viewer@example.com', 'nobody@example.com'].map(ask));
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202]);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    const links = resetLinks();
    expect(links).toHaveLength(1);
    expect(links[0].email).toBe('admin@example.com');
    expect(links[0].msg).toMatch(/^password reset for admin@example\.com: http:\/\/ui\.test\/reset-password\?token=[\w-]{40,} \(one use, 30 min\)$/);
    const { rows } = await h.db.query<{ token_hash: string }>('SELECT token_hash FROM password_resets');
    expect(rows).toHaveLength(1);
    expect(links[0].msg).not.toContain(rows[0]!.token_hash); // only the hash is stored
  });

  it('the link sets a new password once, ends the old sessions, and cannot be used again', async () => {
    const before = cookieOf(await signIn('admin@example.com'));
    const token = /token=([\w-]+)/.exec(resetLinks().at(-1).msg)![1]!;
    const weak = await app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token, password: 'short' } });
    expect(weak.statusCode).toBe(400);
    const ok = await app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token, password: NEW_PASSWORD } });
    expect(ok.statusCode, ok.body).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: before } })).statusCode).toBe(401);
    expect((await signIn('admin@example.com')).statusCode).toBe(401);
    expect((await signIn('admin@example.com', NEW_PASSWORD)).statusCode).toBe(200);
    const reuse = await app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token, password: 'yet another password' } });
    expect(reuse.statusCode).toBe(400);
    expect(reuse.json().message).toContain('unknown, used or expired');
    expect((await signIn('admin@example.com', NEW_PASSWORD)).statusCode).toBe(200);
  });

  it('an expired link does nothing; a newer link replaces the older one; requests are throttled per address', async () => {
    const ask = (remoteAddress = '127.0.16.4') =>
      app.inject({ method: 'POST', url: '/v1/auth/password-reset', payload: { email: 'admin@example.com' }, remoteAddress });
    await ask();
    const older = /token=([\w-]+)/.exec(resetLinks().at(-1).msg)![1]!;
    await ask();
    const newer = /token=([\w-]+)/.exec(resetLinks().at(-1).msg)![1]!;
    expect(
      (await app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token: older, password: 'older link password' } })).statusCode,
    ).toBe(400);
    await h.db.query("UPDATE password_resets SET expires_at = now() - interval '1 second'");
    expect(
      (await app.inject({ method: 'POST', url: '/v1/auth/password-reset/confirm', payload: { token: newer, password: 'expired link password' } })).statusCode,
    ).toBe(400);
    expect((await signIn('admin@example.com', NEW_PASSWORD)).statusCode).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await ask()).statusCode);
    expect(statuses).toEqual([202, 202, 202, 429]);
    expect((await ask('127.0.16.5')).statusCode).toBe(202);
  });
});
