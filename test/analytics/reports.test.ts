import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';
import { DEFAULT_ACCOUNT, insertAccount, insertCall, insertSource } from '../calls/fixtures.js';

let h: Harness;
let app: FastifyInstance;
let viewer: { authorization: string };
const src: Record<string, string> = {};

/**
 * Known data for October 2026 (report period 2026-10-01..2026-10-10 in UTC = 10 days):
 *  Billboard (static) cost 9000 over 2026-10-01..2026-10-30 (30 days) → 10/30 of it = 3000.00; 3 calls
 *  Radio (static) cost 500, no flight dates → whole 500; 1 call
 *  Flyer (static) cost 1000 over 2026-10-05..2026-10-14 → 6 of 10 days in the period = 600.00; no calls
 *  Summer (static) cost 700 in August → nothing in the period, not listed
 *  google/cpc/brand (visit) 2 calls; yandex/organic (visit) 1 call; unattributed 1 call
 */
beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  viewer = await h.headersFor('viewer');
  src.billboard = await insertSource(h.db, {
    name: 'Billboard',
    channel: 'outdoor',
    campaign: 'autumn',
    cost: 9000,
    startsOn: '2026-10-01',
    endsOn: '2026-10-30',
  });
  src.radio = await insertSource(h.db, { name: 'Radio', channel: 'radio', medium: 'audio', cost: 500, createdAt: '2026-09-01T00:00:00Z' });
  src.flyer = await insertSource(h.db, { name: 'Flyer', channel: 'print', cost: 1000, startsOn: '2026-10-05', endsOn: '2026-10-14' });
  await insertSource(h.db, { name: 'Summer', cost: 700, startsOn: '2026-08-01', endsOn: '2026-08-31' });
  await insertSource(h.db, { name: 'Later', cost: 100, createdAt: '2026-12-01T00:00:00Z' });
  const session = () => crypto.randomUUID();
  const google = { utm_source: 'google', utm_medium: 'cpc', utm_campaign: 'brand' };
  await insertCall(h.db, { startedAt: '2026-10-01T09:00:00Z', sourceId: src.billboard, disposition: 'answered', talkSeconds: 60, firstTime: true, value: 100 });
  await insertCall(h.db, { startedAt: '2026-10-01T22:30:00Z', sourceId: src.billboard, disposition: 'answered', talkSeconds: 120, firstTime: false });
  await insertCall(h.db, { startedAt: '2026-10-03T12:00:00Z', sourceId: src.billboard, disposition: 'busy', firstTime: true });
  await insertCall(h.db, { startedAt: '2026-10-05T10:00:00Z', sourceId: src.radio, disposition: 'no-answer', firstTime: true });
  await insertCall(h.db, {
    startedAt: '2026-10-02T10:00:00Z',
    session: google,
    sessionId: session(),
    disposition: 'answered',
    talkSeconds: 30,
    firstTime: true,
  });
  await insertCall(h.db, { startedAt: '2026-10-02T11:00:00Z', session: google, sessionId: session(), disposition: 'voicemail', firstTime: null });
  await insertCall(h.db, {
    startedAt: '2026-10-10T23:59:59Z',
    visit: { source: 'yandex', medium: 'organic' },
    sessionId: session(),
    disposition: 'answered',
    talkSeconds: 10,
    firstTime: false,
  });
  await insertCall(h.db, { startedAt: '2026-10-06T10:00:00Z', disposition: 'answered', talkSeconds: 5, firstTime: true });
  // Outside the UTC period (the end is exclusive), and another account's call inside it.
  await insertCall(h.db, { startedAt: '2026-10-11T00:00:00Z', sourceId: src.billboard, disposition: 'answered', talkSeconds: 999 });
  await insertCall(h.db, { startedAt: '2026-09-30T23:59:59Z', sourceId: src.billboard, disposition: 'answered', talkSeconds: 1, firstTime: false });
  await insertCall(h.db, { accountId: await insertAccount(h.db), startedAt: '2026-10-02T10:00:00Z', session: google, talkSeconds: 777 });
});
afterAll(() => h.close());

const get = (url: string, headers = viewer) => app.inject({ method: 'GET', url, headers });

describe('GET /v1/reports/sources', () => {
  it('counts calls per source/medium/campaign and prorates static cost over the period', async () => {
    const res = await get('/v1/reports/sources?from=2026-10-01&to=2026-10-10');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.period).toEqual({ from: '2026-10-01T00:00:00.000Z', to: '2026-10-11T00:00:00.000Z', tz: 'UTC' });
    const zero = { calls: 0, answered: 0, missed: 0, firstTimeCallers: 0, talkSeconds: 0, value: 0 };
    const noCost = { cost: null, currency: null, costBasis: null, costPerCall: null, costPerAnsweredCall: null };
    expect(body.items).toEqual([
      {
        kind: 'static',
        sourceId: src.billboard,
        source: 'Billboard',
        medium: 'outdoor',
        campaign: 'autumn',
        calls: 3,
        answered: 2,
        missed: 1,
        firstTimeCallers: 2,
        talkSeconds: 180,
        value: 100,
        cost: 3000,
        currency: 'RUB',
        costBasis: 'prorated',
        costPerCall: 1000,
        costPerAnsweredCall: 1500,
      },
      {
        kind: 'visit',
        sourceId: null,
        source: 'google',
        medium: 'cpc',
        campaign: 'brand',
        calls: 2,
        answered: 1,
        missed: 1,
        firstTimeCallers: 1,
        talkSeconds: 30,
        value: 0,
        ...noCost,
      },
      {
        kind: 'static',
        sourceId: src.radio,
        source: 'Radio',
        medium: 'audio',
        campaign: null,
        calls: 1,
        answered: 0,
        missed: 1,
        firstTimeCallers: 1,
        talkSeconds: 0,
        value: 0,
        cost: 500,
        currency: 'RUB',
        costBasis: 'whole',
        costPerCall: 500,
        costPerAnsweredCall: null,
      },
      {
        kind: 'visit',
        sourceId: null,
        source: 'yandex',
        medium: 'organic',
        campaign: null,
        calls: 1,
        answered: 1,
        missed: 0,
        firstTimeCallers: 0,
        talkSeconds: 10,
        value: 0,
        ...noCost,
      },
      {
        kind: 'none',
        sourceId: null,
        source: null,
        medium: null,
        campaign: null,
        calls: 1,
        answered: 1,
        missed: 0,
        firstTimeCallers: 1,
        talkSeconds: 5,
        value: 0,
        ...noCost,
      },
      {
        kind: 'static',
        sourceId: src.flyer,
        source: 'Flyer',
        medium: 'print',
        campaign: null,
        ...zero,
        cost: 600,
        currency: 'RUB',
        costBasis: 'prorated',
        costPerCall: null,
        costPerAnsweredCall: null,
      },
    ]);
    expect(body.totals).toEqual({ calls: 8, answered: 5, missed: 3, firstTimeCallers: 5, talkSeconds: 225, value: 100 });
  });

  it('without a period: the last 30 days up to now', async () => {
    const res = await get('/v1/reports/sources');
    expect(res.statusCode, res.body).toBe(200);
    const { from, to } = res.json().period;
    expect(Date.now() - new Date(to).getTime()).toBeLessThan(60_000);
    expect(new Date(to).getTime() - new Date(from).getTime()).toBe(30 * 86_400_000);
  });

  it('a date-time period is exact and its end exclusive', async () => {
    const res = await get('/v1/reports/sources?from=2026-10-01T09:00:00Z&to=2026-10-01T22:30:00Z');
    const billboard = res.json().items.find((r: { sourceId: string }) => r.sourceId === src.billboard);
    expect(billboard).toMatchObject({ calls: 1, talkSeconds: 60 });
    // 13.5 hours of a 30-day flight: 9000 × 13.5 / 720.
    expect(billboard.cost).toBe(168.75);
  });
});

describe('GET /v1/reports/daily', () => {
  it('buckets by day in UTC by default, empty days included', async () => {
    const res = await get('/v1/reports/daily?from=2026-10-01&to=2026-10-03');
    expect(res.json().items).toEqual([
      { day: '2026-10-01', calls: 2, answered: 2, missed: 0, firstTimeCallers: 1, talkSeconds: 180 },
      { day: '2026-10-02', calls: 2, answered: 1, missed: 1, firstTimeCallers: 1, talkSeconds: 30 },
      { day: '2026-10-03', calls: 1, answered: 0, missed: 1, firstTimeCallers: 1, talkSeconds: 0 },
    ]);
    const quiet = await get('/v1/reports/daily?from=2026-10-07&to=2026-10-09');
    expect(quiet.json().items.map((d: { day: string; calls: number }) => [d.day, d.calls])).toEqual([
      ['2026-10-07', 0],
      ['2026-10-08', 0],
      ['2026-10-09', 0],
    ]);
  });

  it('buckets by local day in the given time zone', async () => {
    // Moscow is UTC+3: 22:30Z on the 1st is the 2nd there, and 23:59:59Z on Sep 30 is Oct 1.
    const res = await get('/v1/reports/daily?from=2026-10-01&to=2026-10-03&tz=Europe/Moscow');
    expect(res.statusCode).toBe(200);
    expect(res.json().period).toEqual({ from: '2026-09-30T21:00:00.000Z', to: '2026-10-03T21:00:00.000Z', tz: 'Europe/Moscow' });
    expect(res.json().items).toEqual([
      { day: '2026-10-01', calls: 2, answered: 2, missed: 0, firstTimeCallers: 1, talkSeconds: 61 },
      { day: '2026-10-02', calls: 3, answered: 2, missed: 1, firstTimeCallers: 1, talkSeconds: 150 },
      { day: '2026-10-03', calls: 1, answered: 0, missed: 1, firstTimeCallers: 1, talkSeconds: 0 },
    ]);
  });
});

describe('GET /v1/reports/daily across a DST change', () => {
  it('gives the 25-hour day its own calls (Europe/Berlin leaves summer time on 2026-10-25)', async () => {
    await insertCall(h.db, { startedAt: '2026-10-24T22:30:00Z' }); // 00:30 CEST on the 25th
    await insertCall(h.db, { startedAt: '2026-10-25T22:30:00Z' }); // 23:30 CET on the 25th
    await insertCall(h.db, { startedAt: '2026-10-25T23:30:00Z' }); // 00:30 CET on the 26th
    const res = await get('/v1/reports/daily?from=2026-10-25&to=2026-10-26&tz=Europe/Berlin');
    expect(res.json().period).toEqual({ from: '2026-10-24T22:00:00.000Z', to: '2026-10-26T23:00:00.000Z', tz: 'Europe/Berlin' });
    expect(res.json().items.map((d: { day: string; calls: number }) => [d.day, d.calls])).toEqual([
      ['2026-10-25', 2],
      ['2026-10-26', 1],
    ]);
  });
});

describe('GET /v1/reports/funnel', () => {
  it('visits → calls → answered', async () => {
    const hasSessions = (await h.db.query(`SELECT to_regclass(quote_ident(current_schema()) || '.dni_sessions') IS NOT NULL AS ok`)).rows[0].ok as boolean;
    if (hasSessions) {
      const site = (
        await h.db.query(
          `INSERT INTO sites (account_id, name, domains, default_number, site_key) VALUES ($1, 's', '{shop.example}', '+74950000000', $2) RETURNING id`,
          [DEFAULT_ACCOUNT, `k${crypto.randomUUID()}`],
        )
      ).rows[0].id;
      const visit = (visitor: string, at: string, bot = false) =>
        h.db.query('INSERT INTO dni_sessions (id, account_id, site_id, visitor_id, created_at, bot) VALUES ($1, $2, $3, $4, $5, $6)', [
          crypto.randomUUID(),
          DEFAULT_ACCOUNT,
          site,
          visitor,
          at,
          bot,
        ]);
      for (const [v, at] of [
        ['v1', '2026-10-01T08:00:00Z'],
        ['v1', '2026-10-02T08:00:00Z'],
        ['v2', '2026-10-02T09:00:00Z'],
        ['v3', '2026-10-05T09:00:00Z'],
        ['v4', '2026-10-10T20:00:00Z'],
      ])
        await visit(v!, at!);
      await visit('crawler', '2026-10-03T00:00:00Z', true);
      await visit('v5', '2026-10-11T00:00:00Z');
    }
    const res = await get('/v1/reports/funnel?from=2026-10-01&to=2026-10-10');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ calls: 8, visitCalls: 3, answered: 5, visitAnswered: 2, answerRate: 0.625 });
    if (hasSessions) expect(res.json()).toMatchObject({ visits: 5, visitors: 4, visitToCallRate: 0.6 });

    // Without the sessions table (a server without the dni/ migrations) visits are unknown, not zero.
    if (hasSessions) await h.db.query('ALTER TABLE dni_sessions RENAME TO dni_sessions_hidden');
    try {
      const without = await get('/v1/reports/funnel?from=2026-10-01&to=2026-10-10');
      expect(without.json()).toMatchObject({ visits: null, visitors: null, visitToCallRate: null, calls: 8 });
    } finally {
      if (hasSessions) await h.db.query('ALTER TABLE dni_sessions_hidden RENAME TO dni_sessions');
    }
  });
});

describe('report parameters', () => {
  it('400 with a message for bad periods and zones; 401 without a key', async () => {
    const cases: Array<[string, RegExp]> = [
      ['to=2025-01-01', /after/], // from defaults to 30 days ago
      ['from=2026-02-30&to=2026-03-01', /from/],
      ['from=last week&to=2026-10-01', /ISO-8601/],
      ['from=2026-10-05&to=2026-10-01', /after/],
      ['from=2026-10-01&to=2026-10-02&tz=Mars/Olympus', /time zone/],
      ['from=2000-01-01&to=2026-10-02', /longer than/],
    ];
    for (const path of ['sources', 'daily', 'funnel']) {
      for (const [q, message] of cases) {
        const res = await get(`/v1/reports/${path}?${q}`);
        expect(res.statusCode, `${path}?${q}`).toBe(400);
        expect(res.json().message, `${path}?${q}`).toMatch(message);
      }
      expect((await app.inject({ method: 'GET', url: `/v1/reports/${path}?from=2026-10-01&to=2026-10-02` })).statusCode).toBe(401);
    }
  });
});
