import type { Queryable } from '../db/pool.js';

/** Adds refused-by-cap counts to each pool's hour bucket. */
export async function addCapRefusals(db: Queryable, hour: Date, counts: Array<[poolId: string, refused: number]>): Promise<void> {
  if (counts.length === 0) return;
  await db.query(
    `INSERT INTO pool_client_cap_refusals (pool_id, hour, refused)
     SELECT pool_id, $1, refused FROM unnest($2::uuid[], $3::int[]) AS c(pool_id, refused)
       WHERE EXISTS (SELECT 1 FROM pools WHERE id = c.pool_id)
     ON CONFLICT (pool_id, hour) DO UPDATE SET refused = pool_client_cap_refusals.refused + EXCLUDED.refused`,
    [hour, counts.map(([poolId]) => poolId), counts.map(([, n]) => n)],
  );
}
