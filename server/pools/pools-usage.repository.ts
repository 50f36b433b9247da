import type { Queryable } from '../db/pool.js';

export interface UsageRow {
  size: number;
  leased_now: number;
  exhausted_events: number;
  shared_leases: number;
  sessions: number;
  peak_concurrent: number;
  peak_demand: number;
  hold_seconds: number;
  exhaustion_policy: string;
  refused_by_client_cap: number;
}

/**
 * Pool usage over [from, now] from the lease history. Peak concurrency is a sweep over lease
 * start (+1) and end (-1) events; ends sort first at equal instants because ranges are half-open.
 * Demand also counts shared leases and, for the default-number policy, visitors who got no
 * number (each as one hold's worth of demand): what the pool would have needed.
 */
export async function poolUsage(db: Queryable, accountId: string, poolId: string, from: Date): Promise<UsageRow | undefined> {
  const { rows } = await db.query<UsageRow>(
    `WITH p AS (SELECT id, hold_seconds, exhaustion_policy FROM pools WHERE account_id = $1 AND id = $2),
     l AS (SELECT during, shared FROM number_leases WHERE pool_id = $2 AND during && tstzrange($3, now(), '[]')),
     miss AS (SELECT tstzrange(at, at + make_interval(secs => greatest(hold_seconds, 1))) AS during FROM pool_exhaustion_events
               WHERE pool_id = $2 AND policy = 'default_number' AND at >= $3),
     ex AS (SELECT greatest(lower(during), $3) AS t, 1 AS d FROM l WHERE NOT shared
            UNION ALL SELECT upper(during), -1 FROM l WHERE NOT shared AND upper(during) <= now()),
     dm AS (SELECT greatest(lower(during), $3) AS t, 1 AS d FROM (SELECT during FROM l UNION ALL SELECT during FROM miss) a
            UNION ALL SELECT upper(during), -1 FROM (SELECT during FROM l UNION ALL SELECT during FROM miss) b WHERE upper(during) <= now())
     SELECT p.hold_seconds, p.exhaustion_policy,
       (SELECT count(*) FROM numbers WHERE pool_id = $2)::int AS size,
       (SELECT count(DISTINCT number_id) FROM number_leases WHERE pool_id = $2 AND NOT shared AND during @> now())::int AS leased_now,
       (SELECT count(*) FROM pool_exhaustion_events WHERE pool_id = $2 AND at >= $3)::int AS exhausted_events,
       (SELECT count(*) FROM l WHERE shared)::int AS shared_leases,
       (SELECT count(*) FROM l)::int AS sessions,
       (SELECT COALESCE(sum(refused), 0) FROM pool_client_cap_refusals
         WHERE pool_id = $2 AND hour >= date_trunc('hour', $3::timestamptz))::int AS refused_by_client_cap,
       COALESCE((SELECT max(c) FROM (SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS c FROM ex) x), 0)::int AS peak_concurrent,
       COALESCE((SELECT max(c) FROM (SELECT sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS c FROM dm) y), 0)::int AS peak_demand
     FROM p`,
    [accountId, poolId, from],
  );
  return rows[0];
}

/**
 * Seconds from the caller's last activity on the site to the call, for calls in [from, now]
 * attributed to a visitor of the pool: the call joined with the lease of its visitor (or its
 * session, on leases a session held alone) on the dialled number. A call while the page was
 * still open counts as 0. Calls later than attribution looks are not attributed, so not here.
 */
export async function callDelays(db: Queryable, poolId: string, from: Date): Promise<number[]> {
  const { rows } = await db.query<{ delay: number }>(
    `SELECT GREATEST(0, extract(epoch FROM c.started_at - GREATEST(lower(l.during), upper(l.during) - make_interval(secs => p.hold_seconds))))::float8 AS delay
       FROM calls c
       JOIN pools p ON p.id = c.pool_id
       LEFT JOIN dni_sessions s ON s.id = c.session_id
       CROSS JOIN LATERAL (
         SELECT l.during FROM number_leases l
          WHERE l.number_id = c.number_id AND l.pool_id = c.pool_id AND lower(l.during) <= c.started_at
            AND (l.session_id = c.session_id OR (l.visitor_id IS NOT NULL AND l.visitor_id = s.visitor_id))
          ORDER BY lower(l.during) DESC LIMIT 1
       ) l
      WHERE c.pool_id = $1 AND c.started_at >= $2 AND c.session_id IS NOT NULL AND c.confidence IN ('exact', 'ambiguous')`,
    [poolId, from],
  );
  return rows.map((r) => r.delay);
}

/**
 * Every holder of the window as (start, last activity) in ms, plus visitors who found the pool
 * exhausted (present at that instant), and how many distinct visitors that is.
 */
export async function holderIntervals(
  db: Queryable,
  poolId: string,
  from: Date,
): Promise<{ intervals: Array<{ start: number; lastActive: number }>; visitors: number }> {
  const [leases, misses] = await Promise.all([
    db.query<{ a: string; b: string; holder: string }>(
      `SELECT (extract(epoch FROM lower(l.during)) * 1000)::float8 AS a,
              (extract(epoch FROM GREATEST(lower(l.during), upper(l.during) - make_interval(secs => p.hold_seconds))) * 1000)::float8 AS b,
              COALESCE(l.visitor_id, l.session_id::text) AS holder
         FROM number_leases l JOIN pools p ON p.id = l.pool_id
        WHERE l.pool_id = $1 AND l.during && tstzrange($2, now(), '[]')`,
      [poolId, from],
    ),
    db.query<{ a: string; session_id: string | null }>(
      `SELECT (extract(epoch FROM at) * 1000)::float8 AS a, session_id FROM pool_exhaustion_events
        WHERE pool_id = $1 AND policy = 'default_number' AND at >= $2`,
      [poolId, from],
    ),
  ]);
  const holders = new Set<string>();
  const intervals = leases.rows.map((r) => {
    holders.add(r.holder);
    return { start: Number(r.a), lastActive: Number(r.b) };
  });
  for (const m of misses.rows) {
    if (m.session_id) holders.add(m.session_id);
    intervals.push({ start: Number(m.a), lastActive: Number(m.a) });
  }
  return { intervals, visitors: holders.size };
}

/** Stores a pool's learned cool-down (null: not enough calls measured yet). */
export async function setPoolCooldown(db: Queryable, poolId: string, cooldownSeconds: number | null): Promise<void> {
  await db.query('UPDATE pools SET cooldown_seconds = $2 WHERE id = $1 AND cooldown_seconds IS DISTINCT FROM $2', [poolId, cooldownSeconds]);
}

/** Pools with attributed calls since `from` (the ones a cool-down can be learned for). */
export async function poolsWithCalls(db: Queryable, from: Date): Promise<Array<{ id: string; hold_seconds: number }>> {
  const { rows } = await db.query<{ id: string; hold_seconds: number }>(
    `SELECT p.id, p.hold_seconds FROM pools p WHERE EXISTS (SELECT 1 FROM calls c WHERE c.pool_id = p.id AND c.started_at >= $1 AND c.session_id IS NOT NULL)`,
    [from],
  );
  return rows;
}

/**
 * Measured precision of `exact`, from truth learned later: an `exact` call whose caller called
 * again and was tied to a visitor then is confirmed when one of those visitors is the same
 * visitor (a repeat caller whose visitor id matches), contradicted when none is. Calls without
 * such later (or earlier) evidence are not counted.
 */
export async function exactPrecision(db: Queryable, poolId: string, from: Date): Promise<{ checked: number; confirmed: number }> {
  const { rows } = await db.query<{ checked: number; confirmed: number }>(
    `SELECT count(*)::int AS checked, count(*) FILTER (WHERE t.matched)::int AS confirmed
       FROM calls c
       CROSS JOIN LATERAL (
         SELECT bool_or(o.visit->>'visitorId' = c.visit->>'visitorId') AS matched
           FROM calls o
          WHERE o.account_id = c.account_id AND o.caller = c.caller AND o.id <> c.id AND NULLIF(o.visit->>'visitorId', '') IS NOT NULL
       ) t
      WHERE c.pool_id = $1 AND c.started_at >= $2 AND c.confidence = 'exact' AND NULLIF(c.visit->>'visitorId', '') IS NOT NULL
        AND t.matched IS NOT NULL`,
    [poolId, from],
  );
  return rows[0] ?? { checked: 0, confirmed: 0 };
}
