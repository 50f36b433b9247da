import type { Queryable } from '../db/pool.js';
import type { SessionVisitColumns } from './visit.js';

export interface NumberOwnership {
  numberId: string;
  poolId: string | null;
  holdSeconds: number | null;
  /** The pool's site (visitor sessions live per site) and its learned cool-down. */
  siteId: string | null;
  cooldownSeconds: number | null;
  quarantineUntil: Date | null;
  /** The static source that owned the number most recently at or before the instant. */
  source: null | {
    id: string;
    name: string;
    kind: string;
    channel: string;
    medium: string | null;
    campaign: string | null;
    startsOn: string | null;
    endsOn: string | null;
    ownedFrom: Date;
    ownedUntil: Date | null;
  };
}

interface OwnershipRow {
  id: string;
  pool_id: string | null;
  hold_seconds: number | null;
  site_id: string | null;
  cooldown_seconds: number | null;
  quarantine_until: Date | string | null;
  src_id: string | null;
  src_name: string | null;
  kind: string | null;
  channel: string | null;
  medium: string | null;
  campaign: string | null;
  starts_on: string | null;
  ends_on: string | null;
  owned_from: Date | string | null;
  owned_until: Date | string | null;
}

/** The number, its pool and the static source that owned it most recently at or before $3 (account $1, number $2). */
const OWNERSHIP_SQL = `SELECT n.id, n.pool_id, p.hold_seconds, p.site_id, p.cooldown_seconds, n.quarantine_until,
            s.id AS src_id, s.name AS src_name, s.kind, s.channel, s.medium, s.campaign,
            s.starts_on::text AS starts_on, s.ends_on::text AS ends_on, h.owned_from, h.owned_until
       FROM numbers n
       LEFT JOIN pools p ON p.id = n.pool_id
       LEFT JOIN LATERAL (
         SELECT source_id, lower(during) AS owned_from, upper(during) AS owned_until FROM source_number_history
          WHERE number_id = n.id AND lower(during) <= $3 AND NOT isempty(during) ORDER BY lower(during) DESC LIMIT 1
       ) h ON true
       LEFT JOIN sources s ON s.id = h.source_id
      WHERE n.account_id = $1 AND n.number = $2`;

/** Timestamps arrive as Dates from rows and as ISO strings from JSON. */
const toDate = (v: Date | string) => (v instanceof Date ? v : new Date(v));
const toDateOrNull = (v: Date | string | null) => (v === null ? null : toDate(v));

function toOwnership(r: OwnershipRow): NumberOwnership {
  return {
    numberId: r.id,
    poolId: r.pool_id,
    holdSeconds: r.hold_seconds,
    siteId: r.site_id,
    cooldownSeconds: r.cooldown_seconds,
    quarantineUntil: toDateOrNull(r.quarantine_until),
    source: r.src_id
      ? {
          id: r.src_id,
          name: r.src_name!,
          kind: r.kind!,
          channel: r.channel!,
          medium: r.medium,
          campaign: r.campaign,
          startsOn: r.starts_on,
          endsOn: r.ends_on,
          ownedFrom: toDate(r.owned_from!),
          ownedUntil: toDateOrNull(r.owned_until),
        }
      : null,
  };
}

export interface LeaseWithVisit {
  /** The page view that opened the lease. */
  sessionId: string;
  /** The visitor holding it (visitor-level leases); null on leases a session held alone. */
  visitorId: string | null;
  poolId: string;
  holdSeconds: number;
  shared: boolean;
  /** Handed out while the number still cooled down after its previous holder. */
  reusedInCooldown: boolean;
  start: Date;
  end: Date;
  visit: SessionVisitColumns | null;
}

const VISIT_COLUMNS = [
  'url',
  'landing_page',
  'referrer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
  'gclid',
  'gbraid',
  'wbraid',
  'fbclid',
  'msclkid',
  'yclid',
  'ga_client_id',
  'ym_client_id',
  'visitor_id',
] as const;
export type VisitColumn = (typeof VISIT_COLUMNS)[number];

interface LeaseRow {
  session_id: string;
  visitor_id: string | null;
  pool_id: string;
  hold_seconds: number;
  shared: boolean;
  reused_in_cooldown: boolean;
  a: Date | string;
  b: Date | string;
  visit: SessionVisitColumns | null;
}

/** Leases of the number (account $1, number $2) touching [$3 - $4 seconds, $3], most recently active first, with their visits. */
const LEASES_SQL = `SELECT l.session_id, l.visitor_id, l.pool_id, p.hold_seconds, l.shared, l.reused_in_cooldown, lower(l.during) AS a, upper(l.during) AS b,
            (SELECT json_build_object(${VISIT_COLUMNS.map((c) => `'${c}', s.${c}`).join(', ')}) FROM dni_sessions s WHERE s.id = l.session_id) AS visit
       FROM numbers n
       JOIN number_leases l ON l.number_id = n.id
       JOIN pools p ON p.id = l.pool_id
      WHERE n.account_id = $1 AND n.number = $2
        AND l.during && tstzrange($3::timestamptz - make_interval(secs => $4), $3::timestamptz, '[]')
      ORDER BY upper(l.during) DESC
      LIMIT 50`;

const toLease = (r: LeaseRow): LeaseWithVisit => ({
  sessionId: r.session_id,
  visitorId: r.visitor_id,
  poolId: r.pool_id,
  holdSeconds: r.hold_seconds,
  shared: r.shared,
  reusedInCooldown: r.reused_in_cooldown,
  start: toDate(r.a),
  end: toDate(r.b),
  visit: r.visit,
});

export interface VisitorSession {
  id: string;
  visitorId: string;
  createdAt: Date;
  visit: SessionVisitColumns;
}

/**
 * The visitors' page views on the site up to the instant, newest first (at most `perVisitor`
 * each): the first is the session a call resolves to, the rest make the visit chain.
 */
export async function findVisitorSessions(
  db: Queryable,
  siteId: string,
  visitorIds: string[],
  at: Date,
  perVisitor: number,
): Promise<Map<string, VisitorSession[]>> {
  const byVisitor = new Map<string, VisitorSession[]>();
  if (visitorIds.length === 0) return byVisitor;
  const { rows } = await db.query<{ id: string; visitor_id: string; created_at: Date; visit: SessionVisitColumns }>(
    `SELECT s.id, s.visitor_id, s.created_at, json_build_object(${VISIT_COLUMNS.map((c) => `'${c}', s.${c}`).join(', ')}) AS visit
       FROM unnest($2::text[]) AS v(visitor_id)
       CROSS JOIN LATERAL (
         SELECT * FROM dni_sessions s WHERE s.site_id = $1 AND s.visitor_id = v.visitor_id AND s.created_at <= $3
          ORDER BY s.created_at DESC LIMIT $4
       ) s
      ORDER BY s.created_at DESC`,
    [siteId, [...new Set(visitorIds)], at, perVisitor],
  );
  for (const r of rows) {
    const list = byVisitor.get(r.visitor_id) ?? [];
    list.push({ id: r.id, visitorId: r.visitor_id, createdAt: r.created_at, visit: r.visit });
    byVisitor.set(r.visitor_id, list);
  }
  return byVisitor;
}

/**
 * How many earlier calls of one caller are counted: a robocaller or an office line that called
 * 50,000 times made every new call count them all (a growing index scan per call, 2.7 ms of
 * Postgres at 5,000); past this a caller is simply "this many or more". Read through
 * ct_caller_calls_before (migration 0187), whose plan stops at the limit whatever the statistics say.
 */
export const PRIOR_CALLS_COUNTED = 100;

/** Earlier calls from caller $5 of account $1 before $3, newest first: how many (up to PRIOR_CALLS_COUNTED) and the ids of the first $6. */
const PRIOR_CALLS_SQL = `SELECT json_build_object('total', count(*), 'ids', COALESCE((array_agg(id ORDER BY started_at DESC))[1:$6], '{}'))
       FROM ct_caller_calls_before($1, $5, $3, ${PRIOR_CALLS_COUNTED}) c`;

const ATTRIBUTION_FACTS_SQL = `SELECT (SELECT row_to_json(o) FROM (${OWNERSHIP_SQL}) o) AS owner,
            (SELECT COALESCE(json_agg(l ORDER BY l.b DESC), '[]') FROM (${LEASES_SQL}) l) AS leases,
            (${PRIOR_CALLS_SQL}) AS prior`;

/**
 * What attribution reads per call, in one round trip (each part as JSON): the number's ownership
 * at the instant, its leases touching [at - lookback, at] and the caller's earlier calls (the ids
 * of the newest `priorLimit`, and how many up to PRIOR_CALLS_COUNTED; none without a caller). Three queries per call
 * were three pool checkouts, writes and reads in the B2BUA.
 */
export async function findAttributionFacts(
  db: Queryable,
  q: { accountId: string; number: string; at: Date; caller?: string | undefined },
  lookbackSeconds: number,
  priorLimit = 10,
): Promise<{ owner: NumberOwnership | undefined; leases: LeaseWithVisit[]; prior: { total: number; ids: string[] } }> {
  const { rows } = await db.query<{ owner: OwnershipRow | null; leases: LeaseRow[]; prior: { total: number; ids: string[] } }>({
    // Prepared once per connection: planning this query cost Postgres more than running it (0.6 ms a call).
    name: 'attribution-facts',
    text: ATTRIBUTION_FACTS_SQL,
    values: [q.accountId, q.number, q.at, lookbackSeconds, q.caller ?? null, priorLimit],
  });
  const row = rows[0]!;
  return {
    owner: row.owner ? toOwnership(row.owner) : undefined,
    leases: row.leases.map(toLease),
    prior: { total: Number(row.prior.total), ids: row.prior.ids },
  };
}
