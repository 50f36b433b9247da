import type { Queryable } from '../db/pool.js';

/**
 * Deletes up to `batch` delivered (or skipped) deliveries finished before `before`. Dead and pending
 * ones stay: they are the ones someone still has to look at or replay.
 */
export async function deleteDeliveredBefore(db: Queryable, before: Date, batch: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM lead_deliveries WHERE id IN (
       SELECT id FROM lead_deliveries WHERE status IN ('delivered', 'skipped') AND delivered_at < $1 LIMIT $2)`,
    [before, batch],
  );
  return rowCount ?? 0;
}

/** Deletes up to `batch` outbox events older than `before` that no delivery refers to any more. */
export async function deleteOrphanEventsBefore(db: Queryable, before: Date, batch: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM lead_events WHERE id IN (
       SELECT e.id FROM lead_events e
        WHERE e.created_at < $1 AND NOT EXISTS (SELECT 1 FROM lead_deliveries d WHERE d.event_id = e.id)
        LIMIT $2)`,
    [before, batch],
  );
  return rowCount ?? 0;
}
