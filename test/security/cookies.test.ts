/** A malformed %-escape in a cookie is a client error (400), not a server error. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionPool, type Provisioned } from '../dni/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
let h: Harness;
let app: FastifyInstance;
let p: Provisioned;

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  p = await provisionPool(h, app, { size: 2, holdSeconds: 30, domains: ['shop.example'] });
});
afterAll(() => h.close());

describe('malformed cookies', () => {
  it('the visitor cookie on the sessions API', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/dni/sessions',
      headers: { origin: 'https://shop.example', 'user-agent': UA, 'content-type': 'text/plain', cookie: 'ct_vid=%E0%A4%A' },
      payload: JSON.stringify({ siteKey: p.siteKey, url: 'https://shop.example/' }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_failed', message: expect.stringContaining('ct_vid') });
  });

  it('the session cookie on an authenticated route, and on the session routes', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/numbers', headers: { cookie: 'ct_session=%zz' } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/v1/auth/session', headers: { cookie: 'other=1; ct_session=abc%' } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/v1/auth/sign-out', headers: { cookie: 'ct_session=%' } })).statusCode).toBe(400);
    // Other cookies' junk does not matter.
    expect((await app.inject({ method: 'GET', url: '/v1/numbers', headers: { cookie: 'tracker=%zz', ...h.adminHeaders } })).statusCode).toBe(200);
  });
});
