import type { Queryable } from '../db/pool.js';

/**
 * Deletes up to `batch` website sessions created before `before` that no call points to (a call's
 * attribution keeps its visit). Returns how many went; call again until it returns less than `batch`.
 */
export async function deleteOldSessions(db: Queryable, before: Date, batch: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM dni_sessions WHERE id IN (
       SELECT s.id FROM dni_sessions s
        WHERE s.created_at < $1 AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.session_id = s.id)
        LIMIT $2)`,
    [before, batch],
  );
  return rowCount ?? 0;
}
