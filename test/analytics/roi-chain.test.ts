/**
 * The ROI report over calls.visit_chain (issue 12 adds that column; here the test adds it to its own
 * schema): a call's chain feeds first and linear, last non-direct picks the last non-direct visit.
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyVisit } from '../../server/attribution/visit.js';
import { insertCall } from '../calls/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await createHarness();
  await h.db.query('ALTER TABLE calls ADD COLUMN IF NOT EXISTS visit_chain jsonb');
  app = await h.buildApp();
  const visit = (source: string, medium: string, campaign: string | null) => ({ ...emptyVisit(), source, medium, campaign, visitorId: 'v-1' });
  const callId = await insertCall(h.db, {
    startedAt: '2026-11-10T10:00:00Z',
    caller: '+74951112200',
    sessionId: crypto.randomUUID(),
    visit: visit('(direct)', '(none)', null),
  });
  // Oldest first: yandex ad, google ad, then a direct return visit that called.
  await h.db.query('UPDATE calls SET visit_chain = $2 WHERE id = $1', [
    callId,
    JSON.stringify([visit('yandex', 'cpc', 'sale'), visit('google', 'cpc', 'brand'), visit('(direct)', '(none)', null)]),
  ]);
  const won = await app.inject({
    method: 'POST',
    url: '/v1/conversions',
    headers: h.adminHeaders,
    payload: { callId, stage: 'won', revenue: '100.00', at: '2026-11-12T10:00:00Z', externalId: 'chain-1' },
  });
  expect(won.statusCode).toBe(201);
});
afterAll(() => h.close());

const bySource = async (model: string) => {
  const res = await app.inject({ method: 'GET', url: `/v1/reports/roi?from=2026-11-01&to=2026-11-30&groupBy=source&model=${model}`, headers: h.adminHeaders });
  expect(res.statusCode, res.body).toBe(200);
  return Object.fromEntries(
    res.json().items.map((r: { source: string; calls: number; won: number; revenue: number }) => [r.source, [r.calls, r.won, r.revenue]]),
  );
};

describe('ROI over visit chains', () => {
  it('credits the last non-direct, the first, or every visit of the chain', async () => {
    expect(await bySource('last')).toEqual({ google: [1, 1, 10000] });
    expect(await bySource('first')).toEqual({ yandex: [1, 1, 10000] });
    expect(await bySource('linear')).toEqual({ yandex: [0.3333, 0.3333, 3333], google: [0.3333, 0.3333, 3333], '(direct)': [0.3333, 0.3333, 3334] });
  });

  it('credits a deal to its call as the call is now, after attribution changes', async () => {
    const visit = (source: string, campaign: string) => ({ ...emptyVisit(), source, medium: 'cpc', campaign, visitorId: 'v-2' });
    const callId = await insertCall(h.db, {
      startedAt: '2026-12-10T10:00:00Z',
      caller: '+74951112201',
      sessionId: crypto.randomUUID(),
      visit: visit('bing', 'b1'),
    });
    const won = await app.inject({
      method: 'POST',
      url: '/v1/conversions',
      headers: h.adminHeaders,
      payload: { callId, stage: 'won', revenue: '50.00', at: '2026-12-11T10:00:00Z', externalId: 'touch-1' },
    });
    expect(won.statusCode).toBe(201);
    const december = async (model: string) => {
      const res = await app.inject({
        method: 'GET',
        url: `/v1/reports/roi?from=2026-12-01&to=2026-12-31&groupBy=source&model=${model}`,
        headers: h.adminHeaders,
      });
      expect(res.statusCode, res.body).toBe(200);
      return Object.fromEntries(
        res.json().items.map((r: { source: string; calls: number; won: number; revenue: number }) => [r.source, [r.calls, r.won, r.revenue]]),
      );
    };
    expect(await december('last')).toEqual({ bing: [1, 1, 5000] });
    // The call's attribution is corrected after the deal was linked: the deal follows the call.
    await h.db.query('UPDATE calls SET visit = $2 WHERE id = $1', [callId, JSON.stringify(visit('facebook', 'f1'))]);
    expect(await december('last')).toEqual({ facebook: [1, 1, 5000] });
    // Then it turns out to have two visits: first touch credits the older one, call and deal alike.
    await h.db.query('UPDATE calls SET visit_chain = $2 WHERE id = $1', [callId, JSON.stringify([visit('yandex', 'y1'), visit('facebook', 'f1')])]);
    expect(await december('first')).toEqual({ yandex: [1, 1, 5000] });
    expect(await december('linear')).toEqual({ yandex: [0.5, 0.5, 2500], facebook: [0.5, 0.5, 2500] });

    // Lifetime value counts what the customer bought up to the period's end: a purchase in January
    // is not December's LTV, and a corrected amount is (the running totals follow the deal).
    const ltv = async () => {
      const res = await app.inject({ method: 'GET', url: '/v1/reports/roi?from=2026-12-01&to=2026-12-31&groupBy=source&model=last', headers: h.adminHeaders });
      return { total: res.json().totals.ltv, facebook: res.json().items.find((r: { source: string }) => r.source === 'facebook')?.ltv };
    };
    expect(await ltv()).toEqual({ total: 5000, facebook: 5000 });
    const again = (externalId: string, revenue: string, at: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/conversions',
        headers: h.adminHeaders,
        payload: { phone: '+74951112201', stage: 'won', revenue, at, externalId },
      });
    expect((await again('touch-2', '70.00', '2027-01-05T10:00:00Z')).statusCode).toBe(201);
    expect(await ltv()).toEqual({ total: 5000, facebook: 5000 });
    const corrected = await app.inject({
      method: 'POST',
      url: '/v1/conversions',
      headers: h.adminHeaders,
      payload: { callId, stage: 'won', revenue: '60.00', at: '2026-12-11T10:00:00Z', externalId: 'touch-1' },
    });
    expect(corrected.statusCode, corrected.body).toBeLessThan(300);
    expect(await ltv()).toEqual({ total: 6000, facebook: 6000 });
    // A purchase earlier in December adds up.
    expect((await again('touch-3', '15.00', '2026-12-02T10:00:00Z')).statusCode).toBe(201);
    expect(await ltv()).toEqual({ total: 7500, facebook: 7500 });
  });
});
