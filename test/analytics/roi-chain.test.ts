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
});
