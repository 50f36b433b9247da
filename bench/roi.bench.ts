/**
 * bench:roi — the ROI report over 90 days on a large account: 1M calls (two in five from a new
 * caller, the rest from 200k repeat callers), 200k deals (half won), 100k web forms, 500k website
 * sessions and 2 years of daily costs for 500 campaigns (BENCH_ROI_SCALE scales the rows; 1 = those figures). Seeds with generate_series in its own schema, ANALYZEs, then prints
 * the median of 5 report runs per model. Goal: < 300 ms. About 1–2 min at scale 1 on 2 cores.
 */
// @ts-expect-error plain ESM helper without types (as bench/sip.bench.ts uses it)
import { startPostgres, startRedis } from '../infra/services.mjs';
import { roiReport } from '../server/analytics/roi.repository.js';
import { createHarness } from '../test/helpers/harness.js';

const scale = Number(process.env.BENCH_ROI_SCALE ?? 1);
const CALLS = Math.round(1_000_000 * scale);
const SESSIONS = Math.round(500_000 * scale);
const CAMPAIGNS = 500;
const DAYS = 730;
const ACCOUNT = '00000000-0000-0000-0000-000000000001';
const START = '2025-01-01T00:00:00Z';
const say = (s: string) => process.stdout.write(`${s}\n`);

await startPostgres();
await startRedis();
// Seeding a million rows takes longer than the server's statement timeout allows a request.
// BENCH_ROI_KEEP=<schema> seeds that schema once and keeps it, for EXPLAIN ANALYZE between runs.
const keep = process.env.BENCH_ROI_KEEP;
const h = await createHarness({ DATABASE_STATEMENT_TIMEOUT_MS: '600000' }, keep ? { schema: keep } : {});
const seeded = keep ? Number((await h.db.query('SELECT count(*)::int AS n FROM calls')).rows[0].n) > 0 : false;
try {
  if (!seeded) await seed();
  await report();
} finally {
  await h.close();
}
process.exit(0);

async function seed(): Promise<void> {
  const t0 = Date.now();
  const {
    rows: [site],
  } = await h.db.query<{ id: string }>(
    `INSERT INTO sites (account_id, name, domains, default_number, site_key) VALUES ($1, 'bench', '{shop.example}', '+74950000000', 'site_bench') RETURNING id`,
    [ACCOUNT],
  );
  // Campaign c<n> of google (even) or yandex (odd); keywords k0..k6. New callers arrive all the time
  // (first-time calls in every period, as on a live account), so the report's lead count has work to do.
  await h.db.query(
    `INSERT INTO calls (account_id, sip_call_id, tracking_number, caller, started_at, disposition, visit, first_time, confidence)
     SELECT $1, 'bench-' || g, '+74950000001', caller, $2::timestamptz + (g::float8 / $3) * interval '${DAYS} days',
       CASE WHEN g % 3 = 0 THEN 'no-answer' ELSE 'answered' END,
       jsonb_build_object('source', CASE WHEN g % 1000 % 2 = 0 THEN 'google' ELSE 'yandex' END, 'medium', 'cpc', 'campaign', 'c' || (g % ${CAMPAIGNS}),
         'keyword', 'k' || (g % 7), 'visitorId', 'v' || (g % 600000)),
       row_number() OVER (PARTITION BY caller ORDER BY g) = 1, 'exact'
     FROM (SELECT g, '+79' || lpad((CASE WHEN g % 5 < 2 THEN g ELSE 5000000 + (g::bigint * 7919) % 200000 END)::text, 9, '0') AS caller
           FROM generate_series(1, $3) g) x`,
    [ACCOUNT, START, CALLS],
  );
  await h.db.query(
    `INSERT INTO dni_sessions (id, account_id, site_id, visitor_id, utm_source, utm_medium, utm_campaign, utm_term, created_at, last_seen_at)
     SELECT gen_random_uuid(), $1, $2, 'v' || (g % 600000), CASE WHEN g % 1000 % 2 = 0 THEN 'google' ELSE 'yandex' END, 'cpc', 'c' || (g % ${CAMPAIGNS}),
       'k' || (g % 7), $3::timestamptz + (g::float8 / $4) * interval '${DAYS} days', $3::timestamptz + (g::float8 / $4) * interval '${DAYS} days'
     FROM generate_series(1, $4) g`,
    [ACCOUNT, site!.id, START, SESSIONS],
  );
  // Every fifth call became a deal (200k at scale 1); every other deal won, three days after the call.
  await h.db.query(
    `INSERT INTO deals (account_id, external_id, origin, stage, revenue_minor, currency, minor_digits, at, qualified_at, won_at, call_id, phone, visitor_id)
     SELECT $1, c.sip_call_id, 'api', CASE WHEN n % 2 = 0 THEN 'won' ELSE 'qualified' END, CASE WHEN n % 2 = 0 THEN 100000 + n % 997 * 100 END, 'RUB', 2,
       c.started_at + interval '1 day', c.started_at + interval '1 day', CASE WHEN n % 2 = 0 THEN c.started_at + interval '3 days' END, c.id, c.caller, c.visit->>'visitorId'
     FROM (SELECT *, row_number() OVER () AS n FROM calls WHERE sip_call_id LIKE 'bench-%' AND substr(sip_call_id, 7)::int % 5 = 0) c`,
    [ACCOUNT],
  );
  // Web forms, one for every ten calls; every fifth leaves the phone of a repeat caller, so some of
  // those callers were form leads before they called.
  await h.db.query(
    `INSERT INTO form_leads (account_id, site_id, visitor_id, phone, url, visit, first_time, created_at)
     SELECT $1, $2, 'v' || (g % 600000), CASE WHEN g % 5 = 0 THEN '+79' || lpad((5000000 + (g::bigint * 104729) % 200000)::text, 9, '0') ELSE '+78' || lpad(g::text, 9, '0') END,
       'https://shop.example/', jsonb_build_object('source', CASE WHEN g % 2 = 0 THEN 'google' ELSE 'yandex' END, 'medium', 'cpc',
         'campaign', 'c' || (g % ${CAMPAIGNS}), 'keyword', 'k' || (g % 7)),
       g % 5 <> 0, $3::timestamptz + (g::float8 / $4) * interval '${DAYS} days'
     FROM generate_series(1, $4) g`,
    [ACCOUNT, site!.id, START, Math.round(CALLS / 10)],
  );
  await h.db.query(
    `INSERT INTO ad_costs (account_id, day, source, medium, campaign, keyword, currency, minor_digits, cost_minor, origin)
     SELECT $1, $2::date + d, CASE WHEN c % 2 = 0 THEN 'google' ELSE 'yandex' END, 'cpc', 'c' || c, '', 'RUB', 2, 10000 + (c * 37 + d) % 5000, 'csv'
     FROM generate_series(0, ${DAYS - 1}) d, generate_series(0, ${CAMPAIGNS - 1}) c`,
    [ACCOUNT, START.slice(0, 10)],
  );
  // A live database has autovacuum behind it: the visibility map lets the report read index entries
  // only (calls_roi_touch, deals_customer_revenue) instead of visiting the rows.
  await h.db.query('VACUUM ANALYZE');
  const counts = (
    await h.db.query(
      `SELECT (SELECT count(*) FROM calls) AS calls, (SELECT count(*) FROM deals) AS deals, (SELECT count(*) FROM dni_sessions) AS sessions, (SELECT count(*) FROM ad_costs) AS costs, (SELECT count(*) FROM form_leads) AS forms`,
    )
  ).rows[0];
  say(`seeded ${JSON.stringify(counts)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function report(): Promise<void> {
  const hi = new Date(Date.parse(START) + DAYS * 86_400_000);
  const period = { lo: new Date(hi.getTime() - 90 * 86_400_000), hi, tz: 'Europe/Moscow' };
  for (const model of ['last', 'first', 'linear'] as const) {
    for (const groupBy of ['campaign', 'keyword'] as const) {
      const times: number[] = [];
      let rows = 0;
      for (let i = 0; i < 5; i++) {
        const start = performance.now();
        const report = await roiReport(h.db, ACCOUNT, period, { groupBy, model, currency: 'RUB' });
        times.push(performance.now() - start);
        rows = report.items.length;
      }
      times.sort((a, b) => a - b);
      say(
        `ROI report 90 days, model=${model}, groupBy=${groupBy}: median ${times[2]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times[4]!.toFixed(0)}), ${rows} rows`,
      );
    }
  }
}
