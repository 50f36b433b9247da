import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRoiServices, type RoiServices } from '../../server/analytics/roi-services.js';
import { type GoogleAdsFake, startGoogleAdsFake } from '../fakes/google-ads-fake.js';
import { startYandexDirectFake, type YandexDirectFake } from '../fakes/yandex-direct-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
let roi: RoiServices;
let direct: YandexDirectFake;
let google: GoogleAdsFake;
let clock = new Date('2026-11-12T10:00:00Z');

beforeAll(async () => {
  h = await createHarness();
  roi = createRoiServices({ db: h.db, logger: h.logger, costPullIntervalMs: 0, puller: { now: () => clock, retryScale: 0.01 } });
  app = await h.buildApp({ overrides: { roi } });
  direct = await startYandexDirectFake({ token: 'direct-token', retryIn: 2 });
  google = await startGoogleAdsFake({ customerId: '1234567890', developerToken: 'dev-token', token: 'google-token' });
});
afterAll(async () => {
  roi.close();
  await direct.close();
  await google.close();
  await h.close();
});

const create = async (body: object) => {
  const res = await app.inject({ method: 'POST', url: '/v1/cost-sources', headers: h.adminHeaders, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};
const perDay = async (source: string) =>
  (
    await h.db.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, sum(cost_minor)::bigint AS cost, count(*)::int AS rows FROM ad_costs WHERE source = $1 GROUP BY day ORDER BY day`,
      [source],
    )
  ).rows;
const sourceState = async (id: string) =>
  (await app.inject({ method: 'GET', url: '/v1/cost-sources', headers: h.adminHeaders })).json().items.find((s: { id: string }) => s.id === id);

describe('Yandex Direct connector', () => {
  it('waits out 201/202 retryIn, stores the TSV, and survives an outage without a gap or a double count', async () => {
    const row = (date: string, campaign: string, criterion: string, cost: string) =>
      direct.rows.push({ date, campaignId: campaign.length, campaign, criterion, clicks: 3, impressions: 30, cost });
    row('2026-11-10', 'sale', 'buy shoes', '100.50');
    row('2026-11-10', 'sale', '--', '20');
    row('2026-11-11', 'brand', 'shop', '7.05');
    row('2026-11-12', 'brand', 'shop', '1'); // today: not complete, not asked for
    const source = await create({ kind: 'yandex_direct', name: 'Direct', config: { token: 'direct-token', baseUrl: direct.url } });
    expect(source.config.token).toBe('…oken');

    await roi.costs.tick();
    expect(direct.requests).toHaveLength(3); // 201, 202, then 200
    expect(direct.served).toEqual([{ from: '2026-10-13', to: '2026-11-11' }]);
    expect(direct.refusals).toEqual([]);
    expect(await perDay('yandex')).toEqual([
      { day: '2026-11-10', cost: 12050, rows: 2 },
      { day: '2026-11-11', cost: 705, rows: 1 },
    ]);
    expect((await sourceState(source.id)).pulledThrough).toBe('2026-11-11');

    // Next day the API is down: nothing changes, the error is shown, the days stay due.
    clock = new Date('2026-11-13T10:00:00Z');
    row('2026-11-12', 'sale', 'buy shoes', '50');
    await direct.down();
    await roi.costs.tick();
    const failed = await sourceState(source.id);
    expect(failed.lastError).toMatch(/unreachable/);
    expect(failed.pulledThrough).toBe('2026-11-11');
    expect(await perDay('yandex')).toHaveLength(2);

    // The day after it is back; Direct also corrected Nov 10 meanwhile.
    clock = new Date('2026-11-14T10:00:00Z');
    await direct.up();
    direct.rows[0]!.cost = '90.50';
    row('2026-11-13', 'brand', 'shop', '3');
    await roi.costs.tick();
    expect(direct.served.at(-1)).toEqual({ from: '2026-11-09', to: '2026-11-13' });
    expect(await perDay('yandex')).toEqual([
      { day: '2026-11-10', cost: 11050, rows: 2 },
      { day: '2026-11-11', cost: 705, rows: 1 },
      { day: '2026-11-12', cost: 5100, rows: 2 },
      { day: '2026-11-13', cost: 300, rows: 1 },
    ]);
    const recovered = await sourceState(source.id);
    expect(recovered).toMatchObject({ pulledThrough: '2026-11-13', lastError: null });
  });
});

describe('Google Ads connector', () => {
  it('reads cost_micros strings exactly and a backfill of the same days replaces them', async () => {
    google.rows.push(
      { date: '2026-11-01', campaignId: '11', campaign: 'brand', clicks: 5, impressions: 50, costMicros: '1234560000' },
      { date: '2026-11-01', campaignId: '12', campaign: 'generic', clicks: 1, impressions: 10, costMicros: '1000005000' },
      { date: '2026-11-02', campaignId: '11', campaign: 'brand', clicks: 2, impressions: 20, costMicros: '9007199254740993000' },
    );
    const source = await create({
      kind: 'google_ads',
      config: { customerId: '1234567890', developerToken: 'dev-token', token: 'google-token', baseUrl: google.url },
    });
    const backfill = () =>
      app.inject({ method: 'POST', url: `/v1/cost-sources/${source.id}/backfill`, headers: h.adminHeaders, payload: { from: '2026-11-01', to: '2026-11-05' } });
    for (let i = 0; i < 2; i++) {
      const res = await backfill();
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ from: '2026-11-01', to: '2026-11-05', rows: 3, pulledThrough: '2026-11-05' });
    }
    expect(google.refusals).toEqual([]);
    // 1234.56 RUB; 1000.005 RUB rounds half up to 1000.01; an int64 beyond 2^53 stays exact.
    expect(await perDay('google')).toEqual([
      { day: '2026-11-01', cost: 123456 + 100001, rows: 2 },
      { day: '2026-11-02', cost: 900719925474099, rows: 1 },
    ]);
  });

  it('reports a provider refusal as 503 with its reason and keeps the stored days', async () => {
    const bad = await create({ kind: 'google_ads', config: { customerId: '1234567890', developerToken: 'dev-token', token: 'expired', baseUrl: google.url } });
    const before = await perDay('google');
    const res = await app.inject({
      method: 'POST',
      url: `/v1/cost-sources/${bad.id}/backfill`,
      headers: h.adminHeaders,
      payload: { from: '2026-11-01', to: '2026-11-05' },
    });
    expect(res.statusCode).toBe(503);
    expect((await sourceState(bad.id)).lastError).toMatch(/401/);
    expect(await perDay('google')).toEqual(before);
    expect((await app.inject({ method: 'POST', url: '/v1/cost-sources', headers: h.adminHeaders, payload: { kind: 'bing', config: {} } })).statusCode).toBe(
      400,
    );
  });
});
