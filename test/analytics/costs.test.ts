import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
let marketer: { authorization: string };
let viewer: { authorization: string };

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  marketer = await h.headersFor('marketer');
  viewer = await h.headersFor('viewer');
});
afterAll(() => h.close());

const upload = (csv: string, headers = marketer) =>
  app.inject({ method: 'POST', url: '/v1/costs/upload', headers: { ...headers, 'content-type': 'text/csv' }, payload: csv });
const stored = async () =>
  (await app.inject({ method: 'GET', url: '/v1/costs?from=2026-01-01&to=2026-12-31', headers: viewer })).json().items as Array<Record<string, unknown>>;

const HEADER = 'date,source,medium,campaign,keyword,cost,currency,clicks,impressions';

describe('POST /v1/costs/upload', () => {
  it('stores rows in minor units and replaces a re-uploaded day and campaign', async () => {
    const first = await upload(
      [
        HEADER,
        '2026-11-01,google,cpc,brand,buy shoes,1234.56,RUB,10,100',
        '2026-11-01,google,cpc,brand,red shoes,0.1,rub,1,',
        '2026-11-02,google,cpc,brand,,300,RUB,,',
        '"2026-11-01",yandex,cpc,"Sale, winter",,"99,90",RUB,5,50',
        '2026-11-01,google,cpc,generic,,50,USD,,',
      ].join('\r\n'),
    );
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ rows: 5, replaced: 0 });
    const rows = await stored();
    expect(rows.map((r) => [r.day, r.source, r.campaign, r.keyword, r.costMinor, r.currency, r.clicks])).toEqual([
      ['2026-11-01', 'google', 'brand', 'buy shoes', 123456, 'RUB', 10],
      ['2026-11-01', 'google', 'brand', 'red shoes', 10, 'RUB', 1],
      ['2026-11-01', 'google', 'generic', null, 5000, 'USD', null],
      ['2026-11-01', 'yandex', 'Sale, winter', null, 9990, 'RUB', 5],
      ['2026-11-02', 'google', 'brand', null, 30000, 'RUB', null],
    ]);

    // The same day and campaign again: its old keywords go, other days and campaigns stay.
    const again = await upload(`${HEADER}\n2026-11-01,google,cpc,brand,buy shoes,1000,RUB,8,80\n`);
    expect(again.json()).toEqual({ rows: 1, replaced: 2 });
    const after = await stored();
    expect(after.filter((r) => r.campaign === 'brand').map((r) => [r.day, r.keyword, r.costMinor])).toEqual([
      ['2026-11-01', 'buy shoes', 100000],
      ['2026-11-02', null, 30000],
    ]);
    expect(after).toHaveLength(4);
  });

  it.each([
    ['a wrong column', `date,source,medium,campaign,spend,currency\n2026-11-05,google,cpc,x,1,RUB`, 'line 1: unknown column "spend"'],
    ['a missing column', `date,source,medium,campaign,currency\n2026-11-05,google,cpc,x,RUB`, 'line 1: missing column "cost"'],
    ['a bad date', `${HEADER}\n2026-11-05,google,cpc,x,,1,RUB,,\n2026-02-30,google,cpc,y,,1,RUB,,`, 'line 3: date "2026-02-30"'],
    ['a negative cost', `${HEADER}\n2026-11-05,google,cpc,x,,1,RUB,,\n\n2026-11-06,google,cpc,x,,-5,RUB,,`, 'line 4: cost "-5" is negative'],
    ['too many decimals', `${HEADER}\n2026-11-05,google,cpc,x,,1.005,RUB,,`, 'line 2: cost "1.005"'],
    ['an unknown currency', `${HEADER}\n2026-11-05,google,cpc,x,,1,XYZ,,`, 'line 2: currency "XYZ"'],
    ['a duplicate row', `${HEADER}\n2026-11-05,google,cpc,x,,1,RUB,,\n2026-11-05,google,cpc,x,,2,RUB,,`, 'line 3: the same date'],
    ['a short row', `${HEADER}\n2026-11-05,google,cpc`, 'line 2: 3 fields, the header has 9'],
  ])('refuses %s with 400 naming the line, storing nothing', async (_what, csv, message) => {
    const before = await stored();
    const res = await upload(csv);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('validation_failed');
    expect(res.json().message).toContain(message);
    expect(await stored()).toEqual(before);
  });

  it('is for admins and marketers only', async () => {
    expect((await upload(`${HEADER}\n2026-11-05,google,cpc,x,,1,RUB,,`, viewer)).statusCode).toBe(403);
  });
});

describe('/v1/currency-rates', () => {
  it('sets, lists, replaces and deletes rates per day and pair', async () => {
    const put = (items: unknown[]) => app.inject({ method: 'PUT', url: '/v1/currency-rates', headers: marketer, payload: { items } });
    expect(
      (
        await put([
          { day: '2026-11-01', base: 'usd', quote: 'RUB', rate: '92.5' },
          { day: '2026-11-02', base: 'USD', quote: 'RUB', rate: 93 },
        ])
      ).json(),
    ).toEqual({
      stored: 2,
    });
    expect((await put([{ day: '2026-11-01', base: 'USD', quote: 'RUB', rate: '92.123456' }])).statusCode).toBe(200);
    expect((await put([{ day: '2026-11-01', base: 'USD', quote: 'USD', rate: '1' }])).statusCode).toBe(400);
    expect((await put([{ day: '2026-11-01', base: 'USD', quote: 'RUB', rate: '-1' }])).statusCode).toBe(400);
    const list = await app.inject({ method: 'GET', url: '/v1/currency-rates?base=USD', headers: viewer });
    expect(list.json().items).toEqual([
      { day: '2026-11-01', base: 'USD', quote: 'RUB', rate: '92.123456' },
      { day: '2026-11-02', base: 'USD', quote: 'RUB', rate: '93' },
    ]);
    expect((await app.inject({ method: 'DELETE', url: '/v1/currency-rates/2026-11-02/USD/RUB', headers: marketer })).statusCode).toBe(204);
    expect((await app.inject({ method: 'DELETE', url: '/v1/currency-rates/2026-11-02/USD/RUB', headers: marketer })).statusCode).toBe(404);
  });
});
