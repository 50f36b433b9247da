import type { Queryable } from '../db/pool.js';

export interface OnboardingFacts {
  trunks: number;
  numbers: number;
  pools: number;
  sources: number;
  calls: number;
  /** Sinks an admin connected: the built-in analytics store is there from the start and does not count. */
  sinks: number;
  sites: { siteId: string; name: string; siteKey: string; lastSessionAt: Date | null }[];
}

/** Every fact of the getting-started checklist in two queries (each EXISTS/count stops early or uses an index). */
export async function readOnboardingFacts(db: Queryable, accountId: string): Promise<OnboardingFacts> {
  const { rows } = await db.query<Omit<OnboardingFacts, 'sites'>>(
    `SELECT (SELECT count(*) FROM trunks WHERE account_id = $1) AS trunks,
            (SELECT count(*) FROM numbers WHERE account_id = $1) AS numbers,
            (SELECT count(*) FROM pools WHERE account_id = $1) AS pools,
            (SELECT count(*) FROM sources WHERE account_id = $1) AS sources,
            (SELECT count(*) FROM (SELECT 1 FROM calls WHERE account_id = $1 LIMIT 1) c) AS calls,
            (SELECT count(*) FROM lead_sinks WHERE account_id = $1 AND kind <> 'analytics' AND enabled) AS sinks`,
    [accountId],
  );
  const sites = await db.query<{ site_id: string; name: string; site_key: string; last_session_at: Date | null }>(
    `SELECT s.id AS site_id, s.name, s.site_key,
            (SELECT max(d.created_at) FROM dni_sessions d WHERE d.site_id = s.id) AS last_session_at
     FROM sites s WHERE s.account_id = $1 ORDER BY s.created_at LIMIT 50`,
    [accountId],
  );
  return { ...rows[0]!, sites: sites.rows.map((r) => ({ siteId: r.site_id, name: r.name, siteKey: r.site_key, lastSessionAt: r.last_session_at })) };
}
