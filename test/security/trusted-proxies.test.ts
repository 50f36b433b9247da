/** X-Forwarded-For / -Proto are believed only from TRUSTED_PROXIES: a client cannot pick its own address. */
import { afterAll, describe, expect, it } from 'vitest';
import { provisionPool } from '../dni/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.close();
});

/** A DNI app whose per-IP limit allows one session a minute, so two sessions from one address collide. */
async function setUp(env: Record<string, string>) {
  const h = await createHarness({ DNI_RATE_LIMIT_PER_MINUTE: '1', ...env });
  harnesses.push(h);
  const app = await h.buildApp();
  const p = await provisionPool(h, app, { size: 3, holdSeconds: 30, domains: ['shop.example'] });
  const create = (forwardedFor: string) =>
    app.inject({
      method: 'POST',
      url: '/v1/dni/sessions',
      remoteAddress: '10.20.30.40',
      headers: {
        origin: 'https://shop.example',
        'user-agent': UA,
        'content-type': 'text/plain',
        'x-forwarded-for': forwardedFor,
        'x-forwarded-proto': 'https',
      },
      payload: JSON.stringify({ siteKey: p.siteKey, url: 'https://shop.example/' }),
    });
  return { create };
}

describe('trusted proxies', () => {
  it('ignores X-Forwarded-For and -Proto from a peer that is not a trusted proxy (the default)', async () => {
    const { create } = await setUp({});
    const first = await create('203.0.113.1');
    expect(first.statusCode, first.body).toBe(200);
    // Not https: the cookie is not marked Secure because the forwarded proto was not believed.
    expect(String(first.headers['set-cookie'])).toContain('SameSite=Lax');
    // A different spoofed address does not escape the per-IP limit of the real peer.
    expect((await create('203.0.113.2')).statusCode).toBe(429);
  });

  it('believes them from a configured proxy', async () => {
    const { create } = await setUp({ TRUSTED_PROXIES: '10.20.30.0/24' });
    const first = await create('203.0.113.1');
    expect(first.statusCode, first.body).toBe(200);
    expect(String(first.headers['set-cookie'])).toContain('Secure');
    expect((await create('203.0.113.2')).statusCode).toBe(200);
  });
});
