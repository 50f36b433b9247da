import type { Queryable } from '../db/pool.js';

/**
 * Releases numbers from a static source into quarantine: the old flyer keeps ringing for a
 * while, so no pool may take them before `quarantine_until` (numbers.service claimNumbers checks
 * it). Ownership history (a trigger) lets attribution still credit the source for late callers.
 */
export async function releaseSourceNumbers(
  db: Queryable,
  accountId: string,
  sourceId: string,
  numbers: string[],
  quarantineDays: number,
): Promise<Array<{ number: string; quarantineUntil: Date }>> {
  const { rows } = await db.query<{ number: string; quarantine_until: Date }>(
    `UPDATE numbers SET source_id = NULL, quarantine_until = now() + make_interval(days => $4)
      WHERE account_id = $1 AND source_id = $2 AND number = ANY($3::text[]) RETURNING number, quarantine_until`,
    [accountId, sourceId, numbers, quarantineDays],
  );
  return rows.map((r) => ({ number: r.number, quarantineUntil: r.quarantine_until }));
}

/** Numbers of sources whose end date passed more than `graceDays` ago go into quarantine. Returns how many. */
export async function releaseExpiredSources(db: Queryable, opts: { graceDays: number; quarantineDays: number }): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE numbers n SET source_id = NULL, quarantine_until = now() + make_interval(days => $2)
       FROM sources s
      WHERE n.source_id = s.id AND s.ends_on IS NOT NULL AND s.ends_on + $1::int < (now() AT TIME ZONE 'UTC')::date`,
    [opts.graceDays, opts.quarantineDays],
  );
  return rowCount ?? 0;
}

export async function sourceNumbers(db: Queryable, accountId: string, sourceId: string): Promise<string[] | undefined> {
  const { rows } = await db.query<{ numbers: string[] | null }>(
    `SELECT (SELECT array_agg(n.number ORDER BY n.number) FROM numbers n WHERE n.source_id = s.id) AS numbers FROM sources s WHERE s.account_id = $1 AND s.id = $2`,
    [accountId, sourceId],
  );
  return rows[0] ? (rows[0].numbers ?? []) : undefined;
}
