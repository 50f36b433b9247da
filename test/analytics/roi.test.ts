import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SessionVisitColumns, visitFromSession } from '../../server/attribution/visit.js';
import { DEFAULT_ACCOUNT, insertCall, insertSource } from '../calls/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
let siteId: string;

const GOOGLE = { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'brand' };
const YANDEX = { utm_source: 'yandex', utm_medium: 'cpc', utm_campaign: 'sale' };
const VK = { utm_source: 'vk', utm_medium: 'cpc', utm_campaign: 'retarget' };
const DIRECT = {};
const P = (n: number) => `+7495111000${n}`;

async function session(visitorId: string, at: string, tags: Partial<SessionVisitColumns>, bot = false) {
  await h.db.query(
    `INSERT INTO dni_sessions (id, account_id, site_id, visitor_id, utm_source, utm_medium, utm_campaign, landing_page, bot, created_at, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'https://shop.example/', $8, $9, $9)`,
    [crypto.randomUUID(), DEFAULT_ACCOUNT, siteId, visitorId, tags.utm_source ?? null, tags.utm_medium ?? null, tags.utm_campaign ?? null, bot, at],
  );
}
const visitOf = (visitorId: string, tags: Partial<SessionVisitColumns>) => ({ ...tags, visitor_id: visitorId });
async function form(at: string, phone: string, visitorId: string, tags: Partial<SessionVisitColumns>, firstTime: boolean) {
  await h.db.query(
    `INSERT INTO form_leads (account_id, site_id, visitor_id, phone, url, visit, first_time, created_at) VALUES ($1, $2, $3, $4, 'https://shop.example/', $5, $6, $7)`,
    [DEFAULT_ACCOUNT, siteId, visitorId, phone, JSON.stringify(visitFromSession(visitOf(visitorId, tags))), firstTime, at],
  );
}

/**
 * November 2026 in UTC, account currency RUB; USD/RUB 90.5 from Oct 31, 92 from Nov 15.
 * Costs: google/cpc/brand 1000 + 500 RUB; yandex/cpc/sale 30 USD on Nov 1 (= 2715.00 RUB) and 100 RUB in December;
 * vk/cpc/retarget 333.33 RUB; static Billboard 9000 RUB over November.
 * Visitors: A google → direct; B yandex → google; C vk; D yandex → google → direct (no call: deal by visitor); a bot.
 * Calls: call1 P1 (A, google), call2 P2 (B, yandex), call3 P1 again (google), call4 P3 Billboard, call5 P4 unattributed,
 * call6 P6 (google) a day after P6's form. Forms: P5 (C, vk), P2 (yandex, after call2), P6 (google).
 * Deals: D0 P1 won in October 2000 RUB (LTV only); D1 call1 won 10000 RUB; D2 call2 qualified; D3 visitor D won 3000.01 RUB;
 * D4 P1 won 50 USD on Nov 20 (= 4600.00 RUB); D5 call4 won 7000 RUB; D6 call5 lost; D7 call2 won in December (outside).
 */
beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  const {
    rows: [site],
  } = await h.db.query<{ id: string }>(
    `INSERT INTO sites (account_id, name, domains, default_number, site_key) VALUES ($1, 'shop', '{shop.example}', '+74950000000', 'site_roi') RETURNING id`,
    [DEFAULT_ACCOUNT],
  );
  siteId = site!.id;
  const csv = [
    'date,source,medium,campaign,keyword,cost,currency',
    '2026-11-01,google,cpc,brand,,1000,RUB',
    '2026-11-02,google,cpc,brand,,500.00,RUB',
    '2026-11-01,yandex,cpc,sale,,30,USD',
    '2026-12-01,yandex,cpc,sale,,100,RUB',
    '2026-11-05,vk,cpc,retarget,,333.33,RUB',
  ].join('\n');
  const upload = await app.inject({ method: 'POST', url: '/v1/costs/upload', headers: { ...h.adminHeaders, 'content-type': 'text/csv' }, payload: csv });
  expect(upload.statusCode).toBe(200);
  const rates = await app.inject({
    method: 'PUT',
    url: '/v1/currency-rates',
    headers: h.adminHeaders,
    payload: {
      items: [
        { day: '2026-10-31', base: 'USD', quote: 'RUB', rate: '90.5' },
        { day: '2026-11-15', base: 'USD', quote: 'RUB', rate: '92' },
      ],
    },
  });
  expect(rates.statusCode).toBe(200);
  const billboard = await insertSource(h.db, {
    name: 'Billboard',
    channel: 'outdoor',
    campaign: 'autumn',
    cost: 9000,
    startsOn: '2026-11-01',
    endsOn: '2026-11-30',
  });

  await session('A', '2026-11-01T09:00:00Z', GOOGLE);
  await session('A', '2026-11-03T09:00:00Z', DIRECT);
  await session('B', '2026-11-02T09:00:00Z', YANDEX);
  await session('B', '2026-11-04T09:00:00Z', GOOGLE);
  await session('C', '2026-11-05T09:00:00Z', VK);
  await session('D', '2026-11-02T10:00:00Z', YANDEX);
  await session('D', '2026-11-06T10:00:00Z', GOOGLE);
  await session('D', '2026-11-08T10:00:00Z', DIRECT);
  await session('robot', '2026-11-08T10:00:00Z', GOOGLE, true);

  const call1 = await insertCall(h.db, { startedAt: '2026-11-03T10:00:00Z', caller: P(1), sessionId: crypto.randomUUID(), session: visitOf('A', GOOGLE) });
  const call2 = await insertCall(h.db, { startedAt: '2026-11-06T10:00:00Z', caller: P(2), sessionId: crypto.randomUUID(), session: visitOf('B', YANDEX) });
  await insertCall(h.db, { startedAt: '2026-11-07T10:00:00Z', caller: P(1), sessionId: crypto.randomUUID(), session: visitOf('A', GOOGLE), firstTime: false });
  const call4 = await insertCall(h.db, { startedAt: '2026-11-10T10:00:00Z', caller: P(3), sourceId: billboard });
  const call5 = await insertCall(h.db, { startedAt: '2026-11-11T10:00:00Z', caller: P(4) });
  await insertCall(h.db, { startedAt: '2026-11-13T10:00:00Z', caller: P(6), sessionId: crypto.randomUUID(), session: visitOf('E', GOOGLE) });
  await form('2026-11-05T11:00:00Z', P(5), 'C', VK, true);
  await form('2026-11-12T11:00:00Z', P(2), 'B', YANDEX, false);
  await form('2026-11-12T12:00:00Z', P(6), 'E', GOOGLE, true);

  const deals: object[] = [
    { phone: P(1), stage: 'won', revenue: 2000, at: '2026-10-15T10:00:00Z', externalId: 'D0' },
    { callId: call1, stage: 'lead', at: '2026-11-03T11:00:00Z', externalId: 'D1' },
    { callId: call1, stage: 'won', revenue: '10000.00', at: '2026-11-08T10:00:00Z', externalId: 'D1' },
    { callId: call2, stage: 'qualified', at: '2026-11-09T10:00:00Z', externalId: 'D2' },
    { visitorId: 'D', stage: 'won', revenue: 3000.01, at: '2026-11-15T10:00:00Z', externalId: 'D3' },
    { phone: P(1), stage: 'won', revenue: 50, currency: 'USD', at: '2026-11-20T10:00:00Z', externalId: 'D4' },
    { callId: call4, stage: 'won', revenue: 7000, at: '2026-11-21T10:00:00Z', externalId: 'D5' },
    { callId: call5, stage: 'lost', at: '2026-11-22T10:00:00Z', externalId: 'D6' },
    { callId: call2, stage: 'won', revenue: 999, at: '2026-12-02T10:00:00Z', externalId: 'D7' },
    // The won webhook delivered twice.
    { callId: call4, stage: 'won', revenue: 7000, at: '2026-11-21T10:00:00Z', externalId: 'D5' },
  ];
  for (const deal of deals) {
    const res = await app.inject({ method: 'POST', url: '/v1/conversions', headers: h.adminHeaders, payload: deal });
    expect(res.statusCode, res.body).toBeLessThan(300);
  }
});
afterAll(() => h.close());

const roi = async (query: string) => {
  const res = await app.inject({ method: 'GET', url: `/v1/reports/roi?from=2026-11-01&to=2026-11-30&${query}`, headers: h.adminHeaders });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

const row = (kind: string, source: string | null, medium: string | null, campaign: string | null, figures: Record<string, number | null>) => ({
  kind,
  source,
  medium,
  campaign,
  keyword: null,
  visits: 0,
  calls: 0,
  forms: 0,
  leads: 0,
  qualified: 0,
  won: 0,
  revenue: 0,
  cost: 0,
  cpl: null,
  cpa: null,
  romi: null,
  ltv: null,
  ...figures,
});

/** Independent of the model: every figure but the deals'. */
const TOTALS = {
  visits: 8,
  calls: 6,
  forms: 3,
  leads: 6,
  qualified: 5,
  won: 4,
  revenue: 2460001,
  cost: 1354833,
  cpl: 225806,
  cpa: 338708,
  romi: 0.8157,
  ltv: 886667,
};

describe('GET /v1/reports/roi', () => {
  it('last non-direct touch: exact figures per campaign, money in minor units', async () => {
    const body = await roi('groupBy=campaign&model=last');
    expect(body.currency).toBe('RUB');
    expect(body.missingRates).toEqual([]);
    expect(body.items).toEqual([
      row('online', '(direct)', '(none)', null, { visits: 2 }),
      row('static', 'Billboard', 'outdoor', 'autumn', {
        calls: 1,
        leads: 1,
        qualified: 1,
        won: 1,
        revenue: 700000,
        cost: 900000,
        cpl: 900000,
        cpa: 900000,
        romi: -0.2222,
        ltv: 700000,
      }),
      row('online', 'google', 'cpc', 'brand', {
        visits: 3,
        calls: 3,
        forms: 1,
        leads: 2,
        qualified: 3,
        won: 3,
        revenue: 1760001,
        cost: 150000,
        cpl: 75000,
        cpa: 50000,
        romi: 10.7333,
        ltv: 980001,
      }),
      row('online', 'vk', 'cpc', 'retarget', { visits: 1, forms: 1, leads: 1, cost: 33333, cpl: 33333, romi: -1 }),
      row('online', 'yandex', 'cpc', 'sale', { visits: 2, calls: 1, forms: 1, leads: 1, qualified: 1, cost: 271500, cpl: 271500, romi: -1 }),
      row('none', null, null, null, { calls: 1, leads: 1 }),
    ]);
    expect(body.totals).toEqual(TOTALS);
  });

  it('first touch moves the visitor-only deal to its first visit', async () => {
    const body = await roi('groupBy=campaign&model=first');
    const by = (source: string) => body.items.find((r: { source: string }) => r.source === source);
    expect(by('google')).toMatchObject({ qualified: 2, won: 2, revenue: 1460000, ltv: 1660000, cpa: 75000 });
    expect(by('yandex')).toMatchObject({ qualified: 2, won: 1, revenue: 300001, ltv: 300001, cpa: 271500, romi: 0.105 });
    expect(by('(direct)')).toMatchObject({ won: 0, revenue: 0 });
    expect(body.totals).toEqual(TOTALS);
  });

  it('linear splits a deal over its touches, remainder to the last, without losing a kopeck', async () => {
    const body = await roi('groupBy=campaign&model=linear');
    const by = (source: string) => body.items.find((r: { source: string }) => r.source === source);
    expect(by('google')).toMatchObject({ qualified: 2.3333, won: 2.3333, revenue: 1560000, ltv: 980001 });
    expect(by('yandex')).toMatchObject({ qualified: 1.3333, won: 0.3333, revenue: 100000, ltv: 300001 });
    expect(by('(direct)')).toMatchObject({ qualified: 0.3333, won: 0.3333, revenue: 100001, ltv: 300001 });
    expect(body.items.reduce((sum: number, r: { revenue: number }) => sum + r.revenue, 0)).toBe(2460001);
    expect(body.totals).toMatchObject({ revenue: 2460001, cost: 1354833, visits: 8 });
  });

  it('groups by source, converts into another currency and names missing rates', async () => {
    const bySource = await roi('groupBy=source');
    expect(bySource.items.map((r: { source: string | null; medium: string | null; campaign: string | null }) => [r.source, r.medium, r.campaign])).toEqual([
      ['(direct)', null, null],
      ['Billboard', null, null],
      ['google', null, null],
      ['vk', null, null],
      ['yandex', null, null],
      [null, null, null],
    ]);
    expect(bySource.totals).toEqual(TOTALS);
    const usd = await roi('groupBy=source&currency=USD');
    expect(usd.currency).toBe('USD');
    // RUB → USD through the inverse of USD/RUB: 150000 kop on Nov 1 and 2 at 90.5 = 1657.46 USD.
    expect(usd.items.find((r: { source: string }) => r.source === 'google').cost).toBe(Math.round(100000 / 90.5) + Math.round(50000 / 90.5));
    expect(usd.items.find((r: { source: string }) => r.source === 'yandex').cost).toBe(3000);
    const eur = await roi('groupBy=source&currency=EUR');
    expect(eur.missingRates).toContainEqual({ currency: 'RUB', day: '2026-11-01' });
    expect(eur.totals.cost).toBe(0);
  });

  it('rejects a bad model, group or currency with 400', async () => {
    for (const q of ['model=best', 'groupBy=city', 'currency=XYZ', 'tz=Mars/Base']) {
      const res = await app.inject({ method: 'GET', url: `/v1/reports/roi?from=2026-11-01&to=2026-11-30&${q}`, headers: h.adminHeaders });
      expect(res.statusCode).toBe(400);
    }
  });
});
