// The lead log: calls and web-form requests in one list, newest first, by kind, with a form and a
// call from the same phone within a day shown as one lead.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { insertCall } from '../calls/fixtures.js';
import { type Provisioned, provisionPool } from '../dni/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
let site: Provisioned;
const ORIGIN = 'https://shop.example';
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  site = await provisionPool(h, app, { size: 2, holdSeconds: 60 });
});
afterAll(() => h?.close());

const log = async (query: string) => {
  const res = await app.inject({ method: 'GET', url: `/v1/leads${query}`, headers: await h.headersFor('viewer') });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: any[]; nextCursor: string | null };
};

it('lists calls and forms newest first, filters by kind, pages without gaps, and links a form to the call from its phone', async () => {
  const older = await insertCall(h.db, { caller: '+74951110001', startedAt: minutesAgo(30), disposition: 'no-answer' });
  const session = await app.inject({
    method: 'POST',
    url: '/v1/dni/sessions',
    headers: { origin: ORIGIN },
    payload: { siteKey: site.siteKey, url: `${ORIGIN}/?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=shoes` },
  });
  // The same phone as the call: the form is linked to it (one lead).
  const form = await app.inject({
    method: 'POST',
    url: '/v1/leads/forms',
    headers: { origin: ORIGIN },
    payload: {
      siteKey: site.siteKey,
      sessionId: session.json().sessionId,
      fields: { name: 'Anna', phone: '+74951110001', email: 'anna@example.com' },
      url: `${ORIGIN}/contacts`,
    },
  });
  expect(form.statusCode, form.body).toBe(201);
  const newer = await insertCall(h.db, { caller: '+74951110002', startedAt: new Date(Date.now() + 1000).toISOString() });
  await h.db.query('UPDATE calls SET spam = true WHERE id = $1', [await insertCall(h.db, { caller: '+74950000666', startedAt: minutesAgo(1) })]);

  const all = await log('');
  expect(all.items.map((i) => [i.kind, i.id])).toEqual([
    ['call', newer],
    ['form', form.json().id],
    ['call', older],
  ]);
  expect(all.items[1]).toMatchObject({
    name: 'Anna',
    email: 'anna@example.com',
    phone: '+74951110001',
    source: 'google',
    medium: 'cpc',
    campaign: 'brand',
    keyword: 'shoes',
    status: 'submitted',
    page: `${ORIGIN}/contacts`,
    linkedId: older,
  });
  expect(all.items[2]).toMatchObject({ status: 'no-answer', linkedId: form.json().id });

  expect((await log('?kind=form')).items.map((i) => i.id)).toEqual([form.json().id]);
  expect((await log('?kind=call')).items.map((i) => i.id)).toEqual([newer, older]);

  const first = await log('?limit=2');
  expect(first.items).toHaveLength(2);
  const second = await log(`?limit=2&cursor=${first.nextCursor}`);
  expect(second.items.map((i) => i.id)).toEqual([older]);
  expect(second.nextCursor).toBeNull();
});

it('refuses a bad kind, a reversed period and a forged cursor with 400', async () => {
  const headers = h.adminHeaders;
  for (const query of ['?kind=fax', '?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', '?cursor=bm90LWEtY3Vyc29y', '?limit=0']) {
    const res = await app.inject({ method: 'GET', url: `/v1/leads${query}`, headers });
    expect(res.statusCode, query).toBe(400);
    expect(res.json().message).toBeTruthy();
  }
});
