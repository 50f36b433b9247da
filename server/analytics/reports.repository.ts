import { CALL_CHANNEL, CALL_VIEW_FROM } from '../calls/call-view.js';
import type { Queryable } from '../db/pool.js';
import type { DailyReport, FunnelReport, ReportQuery, SourceReport, SourceReportRow } from './reports.schemas.js';

export interface Period {
  lo: Date;
  hi: Date;
  tz: string;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** The period when a query names none: the last 30 days up to now. */
const DEFAULT_DAYS = 30;

/**
 * Turns the query's bounds into [lo, hi) instants. A calendar day is read in the report's time
 * zone by Postgres (its tz database decides DST), and `to` as a day includes that whole day.
 * Missing bounds are now and DEFAULT_DAYS before it, taken from one instant.
 */
export async function resolvePeriod(db: Queryable, query: ReportQuery): Promise<Period> {
  const now = Date.now();
  const q = {
    ...query,
    from: query.from ?? new Date(now - DEFAULT_DAYS * 86_400_000).toISOString(),
    to: query.to ?? new Date(now).toISOString(),
  };
  const { rows } = await db.query<{ lo: Date; hi: Date }>(
    `SELECT CASE WHEN $2 THEN ($1::text::date::timestamp AT TIME ZONE $5) ELSE $1::text::timestamptz END AS lo,
            CASE WHEN $4 THEN (($3::text::date + 1)::timestamp AT TIME ZONE $5) ELSE $3::text::timestamptz END AS hi`,
    [q.from, DATE_ONLY.test(q.from), q.to, DATE_ONLY.test(q.to), q.tz],
  );
  return { lo: rows[0]!.lo, hi: rows[0]!.hi, tz: q.tz };
}

const periodOut = (p: Period) => ({ from: p.lo.toISOString(), to: p.hi.toISOString(), tz: p.tz });

const COUNTS = `count(*)::int AS calls,
  count(*) FILTER (WHERE c.disposition = 'answered')::int AS answered,
  count(*) FILTER (WHERE c.disposition IS DISTINCT FROM 'answered')::int AS missed,
  count(*) FILTER (WHERE c.first_time)::int AS first_time_callers,
  COALESCE(sum(c.talk_seconds), 0)::int AS talk_seconds`;

interface CountsRow {
  calls: number;
  answered: number;
  missed: number;
  first_time_callers: number;
  talk_seconds: number;
}
const counts = (r: CountsRow) => ({
  calls: r.calls,
  answered: r.answered,
  missed: r.missed,
  firstTimeCallers: r.first_time_callers,
  talkSeconds: r.talk_seconds,
});

interface SourceRow extends CountsRow {
  source_id: string | null;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  value: number;
  cost: number | null;
  currency: string | null;
  cost_basis: 'prorated' | 'whole' | null;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/**
 * Calls per source/medium/campaign. A call to a static source's number belongs to that source
 * (the number proves it); other calls group by what their website visit said
 * (source/utm_source, medium/utm_medium, campaign/utm_campaign).
 *
 * Cost is prorated: a static source's cost is the spend of its flight (starts_on..ends_on, whole
 * days in the report's zone), and the report counts the share of the flight that falls inside the
 * period. So a 30-day report of a 90-day billboard carries a third of its cost, and cost per call
 * stays comparable between periods and adds up across consecutive ones. Without both dates the
 * flight's length is unknown: the whole cost counts (costBasis 'whole') once the source exists.
 * Static sources that spent money in the period but got no calls are listed too (0 calls).
 */
export async function sourceReport(db: Queryable, accountId: string, p: Period): Promise<SourceReport> {
  const { rows } = await db.query<SourceRow>(
    `WITH per AS (
       SELECT c.source_id,
         CASE WHEN c.source_id IS NULL THEN ${CALL_CHANNEL.source} END AS v_source,
         CASE WHEN c.source_id IS NULL THEN ${CALL_CHANNEL.medium} END AS v_medium,
         CASE WHEN c.source_id IS NULL THEN ${CALL_CHANNEL.campaign} END AS v_campaign,
         ${COUNTS},
         COALESCE(sum(c.value), 0) AS value
       FROM ${CALL_VIEW_FROM}
       WHERE c.account_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND NOT c.spam AND c.direction = 'inbound'
       GROUP BY 1, 2, 3, 4
     ),
     spend AS (
       SELECT s.id, s.name, COALESCE(s.medium, s.channel) AS medium, s.campaign, s.currency,
         CASE WHEN s.cost IS NULL THEN NULL WHEN s.starts_on IS NULL OR s.ends_on IS NULL THEN 'whole' ELSE 'prorated' END AS cost_basis,
         CASE
           WHEN s.cost IS NULL THEN NULL
           WHEN s.starts_on IS NULL OR s.ends_on IS NULL THEN s.cost
           ELSE s.cost * GREATEST(0, extract(epoch FROM
                  LEAST($3::timestamptz, (s.ends_on + 1)::timestamp AT TIME ZONE $4) - GREATEST($2::timestamptz, s.starts_on::timestamp AT TIME ZONE $4)))
                / extract(epoch FROM ((s.ends_on + 1)::timestamp AT TIME ZONE $4) - (s.starts_on::timestamp AT TIME ZONE $4))
         END AS cost,
         s.created_at
       FROM sources s WHERE s.account_id = $1
     )
     SELECT per.source_id, COALESCE(sp.name, per.v_source) AS source, COALESCE(sp.medium, per.v_medium) AS medium,
       COALESCE(sp.campaign, per.v_campaign) AS campaign, per.calls, per.answered, per.missed, per.first_time_callers, per.talk_seconds,
       per.value, sp.cost, sp.currency, sp.cost_basis
     FROM per LEFT JOIN spend sp ON sp.id = per.source_id
     UNION ALL
     SELECT sp.id, sp.name, sp.medium, sp.campaign, 0, 0, 0, 0, 0, 0, sp.cost, sp.currency, sp.cost_basis
     FROM spend sp
     WHERE sp.cost > 0 AND NOT EXISTS (SELECT 1 FROM per WHERE per.source_id = sp.id)
       AND (sp.cost_basis = 'prorated' OR sp.created_at < $3)
     ORDER BY calls DESC, source NULLS LAST, medium NULLS LAST, campaign NULLS LAST`,
    [accountId, p.lo, p.hi, p.tz],
  );

  const items: SourceReportRow[] = rows.map((r) => {
    const cost = r.cost === null ? null : round2(Number(r.cost));
    return {
      kind: r.source_id ? 'static' : r.source || r.medium || r.campaign ? 'visit' : 'none',
      sourceId: r.source_id,
      source: r.source,
      medium: r.medium,
      campaign: r.campaign,
      ...counts(r),
      value: Number(r.value),
      cost,
      currency: cost === null ? null : r.currency,
      costBasis: cost === null ? null : r.cost_basis,
      costPerCall: cost !== null && r.calls > 0 ? round2(cost / r.calls) : null,
      costPerAnsweredCall: cost !== null && r.answered > 0 ? round2(cost / r.answered) : null,
    };
  });
  const sum = (k: 'calls' | 'answered' | 'missed' | 'firstTimeCallers' | 'talkSeconds' | 'value') => items.reduce((a, r) => a + r[k], 0);
  return {
    period: periodOut(p),
    items,
    totals: {
      calls: sum('calls'),
      answered: sum('answered'),
      missed: sum('missed'),
      firstTimeCallers: sum('firstTimeCallers'),
      talkSeconds: sum('talkSeconds'),
      value: round2(sum('value')),
    },
  };
}

/** Calls per calendar day in the report's zone, days without calls included (charts need the gaps). */
export async function dailyReport(db: Queryable, accountId: string, p: Period): Promise<DailyReport> {
  const { rows } = await db.query<CountsRow & { day: string }>(
    `WITH per AS (
       SELECT (c.started_at AT TIME ZONE $4)::date AS day, ${COUNTS}
       FROM calls c WHERE c.account_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND NOT c.spam AND c.direction = 'inbound'
       GROUP BY 1
     ),
     days AS (
       SELECT d::date AS day FROM generate_series(($2::timestamptz AT TIME ZONE $4)::date,
         (($3::timestamptz - interval '1 microsecond') AT TIME ZONE $4)::date, interval '1 day') AS d
     )
     SELECT to_char(days.day, 'YYYY-MM-DD') AS day, COALESCE(per.calls, 0) AS calls, COALESCE(per.answered, 0) AS answered,
       COALESCE(per.missed, 0) AS missed, COALESCE(per.first_time_callers, 0) AS first_time_callers, COALESCE(per.talk_seconds, 0) AS talk_seconds
     FROM days LEFT JOIN per USING (day) ORDER BY days.day`,
    [accountId, p.lo, p.hi, p.tz],
  );
  return { period: periodOut(p), items: rows.map((r) => ({ day: r.day, ...counts(r) })) };
}

/**
 * Visits → calls → answered. Visits are the website sessions (dni_sessions, without bots) started
 * in the period; that table belongs to the dni/ domain, so the figure is null when it does not
 * exist in our schema (checked with to_regclass).
 */
export async function funnelReport(db: Queryable, accountId: string, p: Period): Promise<FunnelReport> {
  const {
    rows: [c],
  } = await db.query<{ calls: number; answered: number; visit_calls: number; visit_answered: number }>(
    `SELECT count(*)::int AS calls, count(*) FILTER (WHERE disposition = 'answered')::int AS answered,
       count(*) FILTER (WHERE session_id IS NOT NULL)::int AS visit_calls,
       count(*) FILTER (WHERE session_id IS NOT NULL AND disposition = 'answered')::int AS visit_answered
     FROM calls WHERE account_id = $1 AND started_at >= $2 AND started_at < $3 AND NOT spam AND direction = 'inbound'`,
    [accountId, p.lo, p.hi],
  );
  let visits: number | null = null;
  let visitors: number | null = null;
  // Looked up in the current schema only: a search_path that falls back to public must not borrow another schema's sessions.
  const {
    rows: [t],
  } = await db.query<{ exists: boolean }>(`SELECT to_regclass(quote_ident(current_schema()) || '.dni_sessions') IS NOT NULL AS exists`);
  if (t?.exists) {
    const {
      rows: [v],
    } = await db.query<{ visits: number; visitors: number }>(
      `SELECT count(*)::int AS visits, count(DISTINCT visitor_id)::int AS visitors FROM dni_sessions
       WHERE account_id = $1 AND created_at >= $2 AND created_at < $3 AND NOT bot`,
      [accountId, p.lo, p.hi],
    );
    visits = v!.visits;
    visitors = v!.visitors;
  }
  return {
    period: periodOut(p),
    visits,
    visitors,
    calls: c!.calls,
    visitCalls: c!.visit_calls,
    answered: c!.answered,
    visitAnswered: c!.visit_answered,
    visitToCallRate: visits ? Math.round((c!.visit_calls / visits) * 10_000) / 10_000 : null,
    answerRate: c!.calls > 0 ? Math.round((c!.answered / c!.calls) * 10_000) / 10_000 : null,
  };
}
