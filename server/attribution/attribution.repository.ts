import type { Queryable } from '../db/pool.js';
import type { SessionVisitColumns } from './visit.js';

export interface NumberOwnership {
  numberId: string;
  poolId: string | null;
  holdSeconds: number | null;
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
  quarantine_until: Date | null;
  src_id: string | null;
  src_name: string | null;
  kind: string | null;
  channel: string | null;
  medium: string | null;
  campaign: string | null;
  starts_on: string | null;
  ends_on: string | null;
  owned_from: Date | null;
  owned_until: Date | null;
}

export async function findOwnership(db: Queryable, accountId: string, number: string, at: Date): Promise<NumberOwnership | undefined> {
  const { rows } = await db.query<OwnershipRow>(
    `SELECT n.id, n.pool_id, p.hold_seconds, n.quarantine_until,
            s.id AS src_id, s.name AS src_name, s.kind, s.channel, s.medium, s.campaign,
            s.starts_on::text AS starts_on, s.ends_on::text AS ends_on, h.owned_from, h.owned_until
       FROM numbers n
       LEFT JOIN pools p ON p.id = n.pool_id
       LEFT JOIN LATERAL (
         SELECT source_id, lower(during) AS owned_from, upper(during) AS owned_until FROM source_number_history
          WHERE number_id = n.id AND lower(during) <= $3 AND NOT isempty(during) ORDER BY lower(during) DESC LIMIT 1
       ) h ON true
       LEFT JOIN sources s ON s.id = h.source_id
      WHERE n.account_id = $1 AND n.number = $2`,
    [accountId, number, at],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    numberId: r.id,
    poolId: r.pool_id,
    holdSeconds: r.hold_seconds,
    quarantineUntil: r.quarantine_until,
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
          ownedFrom: r.owned_from!,
          ownedUntil: r.owned_until,
        }
      : null,
  };
}

export interface LeaseWithVisit {
  sessionId: string;
  poolId: string;
  holdSeconds: number;
  shared: boolean;
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

/** Leases of the number touching [at - lookback, at], most recently active first, with their visits. */
export async function findLeasesAround(db: Queryable, accountId: string, number: string, at: Date, lookbackSeconds: number): Promise<LeaseWithVisit[]> {
  const { rows } = await db.query<{
    session_id: string;
    pool_id: string;
    hold_seconds: number;
    shared: boolean;
    a: Date;
    b: Date;
    visit: SessionVisitColumns | null;
  }>(
    `SELECT l.session_id, l.pool_id, p.hold_seconds, l.shared, lower(l.during) AS a, upper(l.during) AS b,
            (SELECT json_build_object(${VISIT_COLUMNS.map((c) => `'${c}', s.${c}`).join(', ')}) FROM dni_sessions s WHERE s.id = l.session_id) AS visit
       FROM numbers n
       JOIN number_leases l ON l.number_id = n.id
       JOIN pools p ON p.id = l.pool_id
      WHERE n.account_id = $1 AND n.number = $2
        AND l.during && tstzrange($3::timestamptz - make_interval(secs => $4), $3::timestamptz, '[]')
      ORDER BY upper(l.during) DESC
      LIMIT 50`,
    [accountId, number, at, lookbackSeconds],
  );
  return rows.map((r) => ({ sessionId: r.session_id, poolId: r.pool_id, holdSeconds: r.hold_seconds, shared: r.shared, start: r.a, end: r.b, visit: r.visit }));
}

/** Earlier calls from this caller (newest first, up to `limit`) and how many there are in all. */
export async function findPriorCalls(db: Queryable, accountId: string, caller: string, before: Date, limit = 10): Promise<{ total: number; ids: string[] }> {
  const { rows } = await db.query<{ id: string; total: number }>(
    `SELECT id, count(*) OVER () AS total FROM calls WHERE account_id = $1 AND caller = $2 AND started_at < $3 ORDER BY started_at DESC LIMIT $4`,
    [accountId, caller, before, limit],
  );
  return { total: rows[0]?.total ?? 0, ids: rows.map((r) => r.id) };
}
