import type { Queryable } from '../db/pool.js';

export interface CostSourceRow {
  id: string;
  account_id: string;
  kind: 'yandex_direct' | 'google_ads';
  name: string;
  config: Record<string, unknown>;
  enabled: boolean;
  pulled_through: string | null;
  next_pull_at: Date;
  failures: number;
  last_pull_at: Date | null;
  last_error: string | null;
}

const COLUMNS = `id, account_id, kind, name, config, enabled, to_char(pulled_through, 'YYYY-MM-DD') AS pulled_through, next_pull_at, failures, last_pull_at, last_error`;

export async function insertCostSource(
  db: Queryable,
  s: { accountId: string; kind: CostSourceRow['kind']; name: string; config: object },
): Promise<CostSourceRow> {
  const { rows } = await db.query<CostSourceRow>(`INSERT INTO cost_sources (account_id, kind, name, config) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`, [
    s.accountId,
    s.kind,
    s.name,
    s.config,
  ]);
  return rows[0]!;
}

export async function listCostSources(db: Queryable, accountId: string): Promise<CostSourceRow[]> {
  return (await db.query<CostSourceRow>(`SELECT ${COLUMNS} FROM cost_sources WHERE account_id = $1 ORDER BY created_at`, [accountId])).rows;
}

export async function findCostSource(db: Queryable, accountId: string, id: string): Promise<CostSourceRow | undefined> {
  return (await db.query<CostSourceRow>(`SELECT ${COLUMNS} FROM cost_sources WHERE account_id = $1 AND id = $2`, [accountId, id])).rows[0];
}

/**
 * Claims due sources for one pull: their next_pull_at moves `leaseSeconds` ahead so no other
 * process (or tick) pulls them meanwhile; the pull then sets the real next time.
 */
export async function claimDue(db: Queryable, limit: number, leaseSeconds: number): Promise<CostSourceRow[]> {
  const { rows } = await db.query<CostSourceRow>(
    `UPDATE cost_sources SET next_pull_at = now() + make_interval(secs => $2)
     WHERE id IN (SELECT id FROM cost_sources WHERE enabled AND next_pull_at <= now() ORDER BY next_pull_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [limit, leaseSeconds],
  );
  return rows;
}

/** Drops what this source stored for the days it is about to store again (a campaign gone from the report goes too). */
export async function clearSourceDays(trx: Queryable, costSourceId: string, from: string, to: string): Promise<void> {
  await trx.query('DELETE FROM ad_costs WHERE cost_source_id = $1 AND day BETWEEN $2 AND $3', [costSourceId, from, to]);
}

/** A pull stored [from, to]: pulled_through advances only when the range joins what was already complete. */
export async function markPulled(trx: Queryable, id: string, from: string, to: string, nextPullAt: Date | null): Promise<string | null> {
  const { rows } = await trx.query<{ pulled_through: string | null }>(
    `UPDATE cost_sources SET
       pulled_through = CASE WHEN pulled_through IS NULL OR $2::date <= pulled_through + 1 THEN GREATEST(pulled_through, $3::date) ELSE pulled_through END,
       failures = 0, last_error = NULL, last_pull_at = now(), next_pull_at = COALESCE($4, next_pull_at)
     WHERE id = $1 RETURNING to_char(pulled_through, 'YYYY-MM-DD') AS pulled_through`,
    [id, from, to, nextPullAt],
  );
  return rows[0]?.pulled_through ?? null;
}

export async function markFailed(db: Queryable, id: string, error: string, nextPullAt: Date | null): Promise<void> {
  await db.query(
    `UPDATE cost_sources SET failures = failures + 1, last_error = $2, last_pull_at = now(), next_pull_at = COALESCE($3, next_pull_at) WHERE id = $1`,
    [id, error.slice(0, 1000), nextPullAt],
  );
}
