import { CALL_CHANNEL } from '../calls/call-view.js';
import { type Db, type Queryable, readInOneSnapshot } from '../db/pool.js';
import { minorDigits } from './money.js';
import { mergeRoiParts, type RoiMergedRow, type RoiPartRow } from './roi-merge.js';
import type { Period } from './reports.repository.js';
import type { RoiReport, RoiRow } from './roi.schemas.js';

const LEVEL = { source: 1, medium: 2, campaign: 3, keyword: 4 } as const;

/** Digits of every currency the runtime knows, for amounts whose table keeps no digits (static sources). */
const DIGITS = JSON.stringify(Object.fromEntries(Intl.supportedValuesOf('currency').map((c) => [c, minorDigits(c)])));

/**
 * The touches of a call `c` (with its static source `s`), as rows (ord, source, medium, campaign, keyword, is_static).
 * A static number is one touch (the number proves the source). A website call is the visits of its
 * chain when calls.visit_chain holds one, else its own visit alone: then first = last = linear.
 */
function callTouches(): string {
  const own = `SELECT 1::bigint AS ord, ${CALL_CHANNEL.source} AS source, ${CALL_CHANNEL.medium} AS medium, ${CALL_CHANNEL.campaign} AS campaign,
      CASE WHEN s.id IS NULL THEN ${CALL_CHANNEL.keyword} END AS keyword, s.id IS NOT NULL AS is_static`;
  const chained = `s.id IS NULL AND jsonb_typeof(c.visit_chain) = 'array' AND jsonb_array_length(c.visit_chain) > 0`;
  return `(SELECT e.ord, NULLIF(e.v->>'source', '') AS source, NULLIF(e.v->>'medium', '') AS medium, NULLIF(e.v->>'campaign', '') AS campaign,
             NULLIF(e.v->>'keyword', '') AS keyword, false AS is_static
             FROM jsonb_array_elements(CASE WHEN ${chained} THEN c.visit_chain END) WITH ORDINALITY AS e(v, ord)
           UNION ALL ${own} WHERE NOT COALESCE(${chained}, false))`;
}

/**
 * The one touch of a call every model credits whole (calls.touch_single: a static number, or a
 * website call with at most one visit), from the columns migration 0178 derives: `c` has
 * source_id and touch_source/medium/campaign/keyword, `s` is its static source. Same rule as
 * CALL_CHANNEL, except that a static number's touch names no keyword (the number proves the source).
 */
const STORED_TOUCH = (c: string) => `(SELECT 1::bigint AS ord, CASE WHEN s.id IS NOT NULL THEN s.name ELSE ${c}.touch_source END AS source,
    CASE WHEN s.id IS NOT NULL THEN COALESCE(s.medium, s.channel) ELSE ${c}.touch_medium END AS medium,
    CASE WHEN s.id IS NOT NULL THEN s.campaign ELSE ${c}.touch_campaign END AS campaign,
    CASE WHEN s.id IS NULL THEN ${c}.touch_keyword END AS keyword, s.id IS NOT NULL AS is_static)`;

/** The grouping key of a row source (alias `t` with source/medium/campaign/keyword): deeper levels masked. */
const KEY = (t: string) =>
  `${t}.source AS g_source, CASE WHEN $8 >= 2 THEN ${t}.medium END AS g_medium, CASE WHEN $8 >= 3 THEN ${t}.campaign END AS g_campaign,
   CASE WHEN $8 >= 4 THEN ${t}.keyword END AS g_keyword`;

/** Minor units of `currency` (digits `digits`) on `day` in the report currency ($5, digits $9); NULL without a rate. */
const CONVERT = (minor: string, currency: string, digits: string, day: string) =>
  // Amounts already in the report currency (nearly all) skip the numeric work.
  `CASE WHEN ${currency} = $5 AND ${digits} = $9 THEN ${minor}
     ELSE round(${minor} * CASE WHEN ${currency} = $5 THEN 1 ELSE ct_fx_rate($1, ${currency}, $5, ${day}) END * power(10::numeric, $9 - ${digits})) END`;

/** A session's channel: UTM-tagged sessions (nearly all paid traffic) skip the function's referrer parsing. */
const SESSION_CHANNEL = (ds: string, field: 'source' | 'medium') =>
  `CASE WHEN ${ds}.utm_source IS NOT NULL THEN ${field === 'source' ? `${ds}.utm_source` : `COALESCE(${ds}.utm_medium, '(not set)')`}
     ELSE (ct_session_channel(${ds}.utm_source, ${ds}.utm_medium, ${ds}.gclid, ${ds}.gbraid, ${ds}.wbraid, ${ds}.yclid, ${ds}.msclkid, ${ds}.fbclid, ${ds}.referrer, ${ds}.landing_page)).${field} END`;

/** A part's rows before the merge (NULL where a part has nothing to add); the conversions part also carries the LTV over all customers. */
type PartRow = RoiPartRow & { total_ltv?: number | null };
const PART_COLUMNS = 'g_source, g_medium, g_campaign, g_keyword, is_static, visits, calls, forms, leads, qualified, won, revenue, cost, ltv';
/**
 * A part's output: one row per channel (its branches added up here, exactly, which is cheaper than
 * sending Node a row per branch), numbers as text so fractional credit keeps every digit on its way
 * to the merge. Used as `SELECT ${PART_OUT} FROM part ${PART_GROUP}`.
 */
const PART_OUT = `g_source, g_medium, g_campaign, g_keyword, bool_or(is_static) AS is_static, sum(visits::numeric)::text AS visits,
  sum(calls::numeric)::text AS calls, sum(forms::numeric)::text AS forms, sum(leads::numeric)::text AS leads,
  sum(qualified::numeric)::text AS qualified, sum(won::numeric)::text AS won, sum(revenue::numeric)::text AS revenue,
  sum(cost::numeric)::text AS cost, max(ltv::numeric)::text AS ltv`;
const PART_GROUP = 'GROUP BY 1, 2, 3, 4';
/** Every query of the report gets all nine parameters; this names their types for those that use only some. */
const ARGS = 'args AS (SELECT $1::uuid, $2::timestamptz, $3::timestamptz, $4::text, $5::text, $6::jsonb, $7::text, $8::int, $9::int)';

/**
 * ROI per channel. Visits and spend belong to the channel they name; calls, forms and deals are
 * conversions whose credit goes to their touches by the model:
 *  - last: the last non-direct touch (the last touch when all are direct); first: the first; linear: 1/n each.
 *  - touches: a call's chain (see callTouches), a form's visit, a deal's call or form, else the
 *    deal visitor's website sessions up to the deal (oldest first).
 * Deals count when they reached the stage in the period (qualified_at / won_at), whenever their call was.
 * Money stays integer: amounts convert per row into minor units of the report currency (rounded half
 * away from zero), and a linear split gives each touch floor(revenue / n) and the last touch the rest,
 * so the rows always add up to the whole.
 */
export async function roiReport(
  pool: Db,
  accountId: string,
  p: Period,
  o: { groupBy: keyof typeof LEVEL; model: 'last' | 'first' | 'linear'; currency: string },
): Promise<Omit<RoiReport, 'period'>> {
  const touches = callTouches();
  const callsInPeriod = `FROM calls c LEFT JOIN sources s ON s.id = c.source_id CROSS JOIN LATERAL ${touches} t
       WHERE c.account_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND NOT c.spam AND c.direction = 'inbound' AND NOT c.touch_single`;
  const params = [accountId, p.lo, p.hi, p.tz, o.currency, DIGITS, o.model, LEVEL[o.groupBy], minorDigits(o.currency)];
  /**
   * The credited touches (CTEs deal_base, touches, windowed, credited, single_deals, single_won_customers):
   * the period's multi-touch calls and its deals, or (`won`) just the deals won in it, which is all the LTV part needs.
   */
  const credit = (scope: 'all' | 'won') => `
     deal_base AS (
       -- Only the columns the report reads: the CTE is materialized, and whole deal rows are wide.
       SELECT d.id, d.call_id, d.form_lead_id, d.visitor_id, d.at, d.qualified_at, d.won_at, d.touch_single, d.touch_source_id,
         d.touch_source, d.touch_medium, d.touch_campaign, d.touch_keyword, d.won_at >= $2 AND d.won_at < $3 AS won_in, d.qualified_at >= $2 AND d.qualified_at < $3 AS qualified_in,
         COALESCE(d.phone, d.visitor_id, d.id::text) AS customer,
         CASE WHEN d.won_at >= $2 AND d.won_at < $3 AND d.revenue_minor IS NOT NULL
           THEN ${CONVERT('d.revenue_minor', 'd.currency', 'd.minor_digits', '(d.won_at AT TIME ZONE $4)::date')} END AS rev
       FROM deals d
       WHERE ${scope === 'won' ? 'd.account_id = $1 AND d.won_at >= $2 AND d.won_at < $3' : 'd.account_id = $1 AND ((d.won_at >= $2 AND d.won_at < $3) OR (d.qualified_at >= $2 AND d.qualified_at < $3))'}
     ),
     touches AS (
${
  scope === 'won'
    ? ''
    : `       SELECT 'call' AS ev_kind, c.id::text AS ev_id, c.first_lead AS first_time, t.* ${callsInPeriod}
       UNION ALL
`
}       SELECT 'deal' AS ev_kind, d.id::text AS ev_id, false AS first_time, t.*
       FROM deal_base d JOIN calls c ON c.id = d.call_id AND NOT d.touch_single LEFT JOIN sources s ON s.id = c.source_id CROSS JOIN LATERAL ${touches} t
       UNION ALL
       SELECT 'deal', d.id::text, false, 1, NULLIF(f.visit->>'source', ''), NULLIF(f.visit->>'medium', ''), NULLIF(f.visit->>'campaign', ''),
         NULLIF(f.visit->>'keyword', ''), false
       FROM deal_base d JOIN form_leads f ON f.id = d.form_lead_id WHERE d.call_id IS NULL
       UNION ALL
       SELECT 'deal', d.id::text, false, row_number() OVER (PARTITION BY d.id ORDER BY ds.created_at, ds.id), ch.source, ch.medium, ds.utm_campaign, ds.utm_term, false
       FROM deal_base d
         JOIN dni_sessions ds ON ds.visitor_id = d.visitor_id AND ds.account_id = $1 AND NOT ds.bot AND ds.created_at <= COALESCE(d.won_at, d.qualified_at, d.at)
         CROSS JOIN LATERAL ct_session_channel(ds.utm_source, ds.utm_medium, ds.gclid, ds.gbraid, ds.wbraid, ds.yclid, ds.msclkid, ds.fbclid, ds.referrer, ds.landing_page) ch
       WHERE d.call_id IS NULL AND d.form_lead_id IS NULL
       UNION ALL
       SELECT 'deal', d.id::text, false, 1, NULL, NULL, NULL, NULL, false
       FROM deal_base d
       WHERE d.call_id IS NULL AND d.form_lead_id IS NULL AND NOT EXISTS (
         SELECT 1 FROM dni_sessions ds WHERE ds.visitor_id = d.visitor_id AND ds.account_id = $1 AND NOT ds.bot AND ds.created_at <= COALESCE(d.won_at, d.qualified_at, d.at))
     ),
     windowed AS (
       SELECT t.*, count(*) OVER w AS n, min(t.ord) OVER w AS first_ord, max(t.ord) OVER w AS last_ord,
         max(t.ord) FILTER (WHERE t.source IS DISTINCT FROM '(direct)') OVER w AS last_non_direct
       FROM touches t WINDOW w AS (PARTITION BY t.ev_kind, t.ev_id)
     ),
     credited AS (
       SELECT w.*, CASE WHEN $7 = 'linear' THEN 1::numeric / w.n ELSE 1::numeric END AS weight,
         d.won_in, d.qualified_in, d.customer,
         CASE WHEN $7 = 'linear' THEN div(d.rev, w.n) + CASE WHEN w.ord = w.last_ord THEN d.rev - div(d.rev, w.n) * w.n ELSE 0 END ELSE d.rev END AS rev
       FROM windowed w LEFT JOIN deal_base d ON w.ev_kind = 'deal' AND d.id::text = w.ev_id
       WHERE $7 = 'linear' OR w.ord = CASE WHEN $7 = 'first' THEN w.first_ord ELSE COALESCE(w.last_non_direct, w.last_ord) END
     ),
     -- Deals of single-touch calls (nearly all): every model credits the call's one touch whole, so they
     -- are counted per raw touch first and the channel rules run per group, not per deal.
     single_deals AS (
       SELECT d.touch_source_id, d.touch_source, d.touch_medium, d.touch_campaign, d.touch_keyword,
         count(*) FILTER (WHERE d.qualified_in) AS qualified, count(*) FILTER (WHERE d.won_in) AS won,
         sum(d.rev) FILTER (WHERE d.won_in) AS revenue
       FROM deal_base d WHERE d.touch_single GROUP BY 1, 2, 3, 4, 5
     ),
     single_won_customers AS (
       SELECT DISTINCT d.touch_source_id, d.touch_source, d.touch_medium, d.touch_campaign, d.touch_keyword, d.customer
       FROM deal_base d WHERE d.touch_single AND d.won_in
     )`;
  // Each part reads a different table, so they run at once on separate connections (one snapshot).
  const [conversions, lifetimeValue, calls, spend, missing] = await readInOneSnapshot<
    [PartRow[], PartRow[], PartRow[], PartRow[], Array<{ currency: string; day: string }>]
  >(
    pool,
    // The queries are big enough for Postgres to JIT-compile them, which costs ~0.5 s per run and
    // saves nothing on a few hundred thousand rows. Their sorts and hashes stay in memory.
    ['SET LOCAL jit = off', "SET LOCAL work_mem = '64MB'"],
    [
      async (db) =>
        (
          await db.query<PartRow>(
            `WITH ${ARGS}, ${credit('all')},
     part(${PART_COLUMNS}) AS (
       SELECT ${KEY('c')}, bool_or(c.is_static) AS is_static, NULL::bigint AS visits,
         sum(c.weight) FILTER (WHERE c.ev_kind = 'call') AS calls,
         NULL::numeric AS forms,
         sum(c.weight) FILTER (WHERE c.ev_kind = 'call' AND c.first_time) AS leads,
         sum(c.weight) FILTER (WHERE c.qualified_in) AS qualified,
         sum(c.weight) FILTER (WHERE c.won_in) AS won,
         sum(c.rev) FILTER (WHERE c.won_in) AS revenue, NULL::numeric AS cost, NULL::numeric AS ltv
       FROM credited c GROUP BY 1, 2, 3, 4
       UNION ALL
       -- A form has one touch, its own visit: whole credit under every model, counted per visit channel.
       SELECT ${KEY('f')}, false, NULL, NULL, sum(f.n), sum(f.leads), NULL, NULL, NULL, NULL, NULL
       FROM (SELECT NULLIF(f.visit->>'source', '') AS source, NULLIF(f.visit->>'medium', '') AS medium, NULLIF(f.visit->>'campaign', '') AS campaign,
               NULLIF(f.visit->>'keyword', '') AS keyword, count(*) AS n, count(*) FILTER (WHERE f.first_time) AS leads
             FROM form_leads f WHERE f.account_id = $1 AND f.created_at >= $2 AND f.created_at < $3 GROUP BY 1, 2, 3, 4) f
       GROUP BY 1, 2, 3, 4
       UNION ALL
       SELECT ${KEY('t')}, bool_or(t.is_static), NULL, NULL, NULL, NULL, sum(d.qualified), sum(d.won), sum(d.revenue), NULL, NULL
       FROM single_deals d LEFT JOIN sources s ON s.id = d.touch_source_id CROSS JOIN LATERAL ${STORED_TOUCH('d')} t
       GROUP BY 1, 2, 3, 4
     )
     SELECT ${PART_OUT} FROM part ${PART_GROUP}`,
            params,
          )
        ).rows,
      // LTV per channel needs each won deal's credited channel and its customer's lifetime revenue.
      async (db) =>
        (
          await db.query<PartRow>(
            `WITH ${ARGS}, ${credit('won')},
     -- Lifetime revenue (up to the period's end) of every customer won in the period, from the
     -- running totals of migration 0179: a row per customer in the report currency with nothing won
     -- after the period; other currencies (converted at each deal's day) and customers who bought
     -- again later walk their deals. The account's totals are read once and hashed against the won
     -- customers: OFFSET 0 keeps the planner from probing them customer by customer (its guess of
     -- the won customers is far too low) without copying the whole table aside first.
     won_customers AS (SELECT DISTINCT customer FROM deal_base WHERE won_in),
     account_totals AS NOT MATERIALIZED (
       SELECT customer, currency, minor_digits, revenue_minor,
         currency = $5 AND minor_digits = $9 AND last_won_at < $3 AS whole
       FROM customer_revenue WHERE account_id = $1 AND deals > 0 OFFSET 0
     ),
     won_totals AS MATERIALIZED (SELECT t.* FROM account_totals t JOIN won_customers k USING (customer)),
     lifetime AS (
       SELECT x.customer, sum(x.revenue) AS revenue
       FROM (
         SELECT t.customer, t.revenue_minor::numeric AS revenue FROM won_totals t WHERE t.whole
         UNION ALL
         SELECT t.customer, ${CONVERT('l.minor', 't.currency', 't.minor_digits', 'l.fx_day')}
         FROM won_totals t
           CROSS JOIN LATERAL (
             SELECT CASE WHEN d.currency = $5 THEN NULL ELSE (d.won_at AT TIME ZONE $4)::date END AS fx_day, sum(d.revenue_minor) AS minor
             FROM deals d
             WHERE d.account_id = $1 AND COALESCE(d.phone, d.visitor_id, d.id::text) = t.customer AND d.currency = t.currency
               AND d.minor_digits = t.minor_digits AND d.won_at IS NOT NULL AND d.won_at < $3 AND d.revenue_minor IS NOT NULL
             GROUP BY 1, CASE WHEN d.currency = $5 THEN NULL ELSE d.id END) l
         WHERE NOT t.whole
       ) x
       GROUP BY 1
     ),
     part(${PART_COLUMNS}) AS (
       -- LTV per channel: the credited channel of each customer won in the period, and that customer's lifetime revenue.
       SELECT g_source, g_medium, g_campaign, g_keyword, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, round(avg(l.revenue))
       FROM (
         SELECT ${KEY('c')}, c.customer FROM credited c WHERE c.won_in
         UNION
         SELECT ${KEY('t')}, d.customer
         FROM single_won_customers d LEFT JOIN sources s ON s.id = d.touch_source_id CROSS JOIN LATERAL ${STORED_TOUCH('d')} t
       ) k JOIN lifetime l USING (customer)
       GROUP BY 1, 2, 3, 4
     )
     SELECT ${PART_OUT}, (SELECT round(avg(revenue)) FROM lifetime)::bigint AS total_ltv FROM part ${PART_GROUP}`,
            params,
          )
        ).rows,
      async (db) =>
        (
          await db.query<PartRow>(
            `WITH ${ARGS}, part(${PART_COLUMNS}) AS (
       -- Single-touch calls: every model credits them whole, so they are
       -- counted per raw channel first (a few hundred groups) and the channel rules run per group, not per call.
       SELECT ${KEY('t')}, bool_or(t.is_static), NULL::bigint, sum(c.n), NULL::numeric, sum(c.leads), NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric
       FROM (SELECT c.source_id, c.touch_source, c.touch_medium, c.touch_campaign, c.touch_keyword, count(*) AS n, count(*) FILTER (WHERE c.first_lead) AS leads
             FROM calls c
             WHERE c.account_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND NOT c.spam AND c.direction = 'inbound' AND c.touch_single
             GROUP BY 1, 2, 3, 4, 5) c
         LEFT JOIN sources s ON s.id = c.source_id CROSS JOIN LATERAL ${STORED_TOUCH('c')} t
       GROUP BY 1, 2, 3, 4
     )
     SELECT ${PART_OUT} FROM part ${PART_GROUP}`,
            params,
          )
        ).rows,
      async (db) =>
        (
          await db.query<PartRow>(
            `WITH ${ARGS},
     bounds AS (SELECT ($2::timestamptz AT TIME ZONE $4)::date AS lo_day, (($3::timestamptz - interval '1 microsecond') AT TIME ZONE $4)::date AS hi_day),
     part(${PART_COLUMNS}) AS (
       SELECT ${KEY('v')}, false, count(*), NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric
       FROM (SELECT ${SESSION_CHANNEL('ds', 'source')} AS source, ${SESSION_CHANNEL('ds', 'medium')} AS medium, ds.utm_campaign AS campaign, ds.utm_term AS keyword
             FROM dni_sessions ds
             WHERE ds.account_id = $1 AND ds.created_at >= $2 AND ds.created_at < $3 AND NOT ds.bot) v
       GROUP BY 1, 2, 3, 4
       UNION ALL
       SELECT ${KEY('a')}, false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, sum(a.cost), NULL
       FROM (SELECT a.source, a.medium, a.campaign, NULLIF(a.keyword, '') AS keyword,
               ${CONVERT('sum(a.cost_minor)', 'a.currency', 'a.minor_digits', 'a.fx_day')} AS cost
             -- Amounts in the report currency need no daily rate: their days collapse before any numeric work.
             FROM (SELECT a.*, CASE WHEN a.currency = $5 THEN NULL ELSE a.day END AS fx_day FROM ad_costs a, bounds b
                   WHERE a.account_id = $1 AND a.day BETWEEN b.lo_day AND b.hi_day) a
             GROUP BY a.fx_day, a.currency, a.minor_digits, a.source, a.medium, a.campaign, a.keyword) a
       GROUP BY 1, 2, 3, 4
       UNION ALL
       -- Static sources: cost prorated by the share of their flight inside the period (as /v1/reports/sources), at the period's last day's rate.
       SELECT ${KEY('st')}, true, NULL, NULL, NULL, NULL, NULL, NULL, NULL, sum(st.cost), NULL
       FROM (SELECT s.name AS source, COALESCE(s.medium, s.channel) AS medium, s.campaign, NULL::text AS keyword,
               ${CONVERT(
                 `round(s.cost * CASE WHEN s.starts_on IS NULL OR s.ends_on IS NULL THEN 1 ELSE GREATEST(0, extract(epoch FROM
                    LEAST($3::timestamptz, (s.ends_on + 1)::timestamp AT TIME ZONE $4) - GREATEST($2::timestamptz, s.starts_on::timestamp AT TIME ZONE $4)))
                    / extract(epoch FROM ((s.ends_on + 1)::timestamp AT TIME ZONE $4) - (s.starts_on::timestamp AT TIME ZONE $4)) END
                    * power(10::numeric, ($6::jsonb->>s.currency)::int))`,
                 's.currency',
                 `($6::jsonb->>s.currency)::int`,
                 'b.hi_day',
               )} AS cost
             FROM sources s, bounds b
             WHERE s.account_id = $1 AND s.cost > 0 AND ((s.starts_on IS NOT NULL AND s.ends_on IS NOT NULL) OR s.created_at < $3)) st
       GROUP BY 1, 2, 3, 4
     )
     SELECT ${PART_OUT} FROM part ${PART_GROUP}`,
            params,
          )
        ).rows,
      (db) => missingRates(db, params),
    ],
  );
  const rows = mergeRoiParts([...conversions, ...lifetimeValue, ...calls, ...spend]);
  const kindOf = (r: RoiMergedRow): RoiRow['kind'] => (r.is_static ? 'static' : r.g_source ? 'online' : 'none');
  // One object per row, built whole (the report can have thousands of rows).
  const items = rows.map(
    (r): RoiRow => ({
      kind: kindOf(r),
      source: r.g_source,
      medium: r.g_medium,
      campaign: r.g_campaign,
      keyword: r.g_keyword,
      visits: r.visits,
      calls: r.calls,
      forms: r.forms,
      leads: r.leads,
      qualified: r.qualified,
      won: r.won,
      revenue: r.revenue,
      cost: r.cost,
      ltv: r.ltv,
      cpl: costPer(r.cost, r.leads),
      cpa: costPer(r.cost, r.won),
      romi: romi(r.revenue, r.cost),
    }),
  );
  const sum = (k: 'visits' | 'calls' | 'forms' | 'leads' | 'qualified' | 'won' | 'revenue' | 'cost') =>
    Math.round(items.reduce((a, r) => a + r[k], 0) * 10_000) / 10_000;
  const base = {
    visits: sum('visits'),
    calls: sum('calls'),
    forms: sum('forms'),
    leads: sum('leads'),
    qualified: sum('qualified'),
    won: sum('won'),
    revenue: sum('revenue'),
    cost: sum('cost'),
    // LTV over every customer won in the period, whatever their channel.
    ltv: lifetimeValue[0]?.total_ltv ?? null,
  };
  const totals = { ...base, cpl: costPer(base.cost, base.leads), cpa: costPer(base.cost, base.won), romi: romi(base.revenue, base.cost) };
  return { groupBy: o.groupBy, model: o.model, currency: o.currency, items, totals, missingRates: missing };
}

/** CPL or CPA in minor units (half away from zero), from integer money only. */
function costPer(cost: number, count: number): number | null {
  return count > 0 && cost > 0 ? Math.round(cost / count) : null;
}

/** ROMI = (revenue − cost) / cost, to 4 decimals. */
function romi(revenue: number, cost: number): number | null {
  return cost > 0 ? Math.round(((revenue - cost) / cost) * 10_000) / 10_000 : null;
}

/** Currencies and days whose amounts could not be converted (no rate on or before the day, either way round). */
async function missingRates(db: Queryable, params: unknown[]): Promise<Array<{ currency: string; day: string }>> {
  const { rows } = await db.query<{ currency: string; day: string }>(
    `WITH bounds AS (SELECT ($2::timestamptz AT TIME ZONE $4)::date AS lo_day, (($3::timestamptz - interval '1 microsecond') AT TIME ZONE $4)::date AS hi_day),
     amounts AS (
       SELECT DISTINCT a.currency, a.day FROM ad_costs a, bounds b WHERE a.account_id = $1 AND a.day BETWEEN b.lo_day AND b.hi_day AND a.currency <> $5
       UNION SELECT DISTINCT d.currency, (d.won_at AT TIME ZONE $4)::date FROM deals d
         WHERE d.account_id = $1 AND d.won_at >= $2 AND d.won_at < $3 AND d.revenue_minor IS NOT NULL AND d.currency <> $5
       UNION SELECT DISTINCT s.currency, b.hi_day FROM sources s, bounds b WHERE s.account_id = $1 AND s.cost > 0 AND s.currency <> $5
     )
     SELECT currency, to_char(day, 'YYYY-MM-DD') AS day FROM amounts WHERE ct_fx_rate($1, currency, $5, day) IS NULL
       AND $6::text IS NOT NULL AND $7::text IS NOT NULL AND $8::int > 0 AND $9::int >= 0
     ORDER BY currency, day LIMIT 100`,
    params,
  );
  return rows;
}
