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
