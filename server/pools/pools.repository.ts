import type { Queryable } from '../db/pool.js';
import type { Pool } from './pools.schemas.js';

interface PoolRow {
  id: string;
  account_id: string;
  site_id: string;
  name: string;
  hold_seconds: number;
  max_lease_seconds: number;
  exhaustion_policy: Pool['exhaustionPolicy'];
  dialplan: string | null;
  created_at: Date;
  numbers: string[] | null;
}

const toPool = (r: PoolRow): Pool => ({
  id: r.id,
  siteId: r.site_id,
  name: r.name,
  numbers: r.numbers ?? [],
  holdSeconds: r.hold_seconds,
  maxLeaseSeconds: r.max_lease_seconds,
  exhaustionPolicy: r.exhaustion_policy,
  dialplan: r.dialplan,
  createdAt: r.created_at.toISOString(),
});

const SELECT_POOL = `SELECT p.*, (SELECT array_agg(n.number ORDER BY n.number) FROM numbers n WHERE n.pool_id = p.id) AS numbers FROM pools p`;

export async function insertPool(
  db: Queryable,
  p: { accountId: string; siteId: string; name: string; holdSeconds: number; maxLeaseSeconds: number; exhaustionPolicy: string; dialplan?: string },
): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO pools (account_id, site_id, name, hold_seconds, max_lease_seconds, exhaustion_policy, dialplan)
     SELECT $1, s.id, $3, $4, $5, $6, $7 FROM sites s WHERE s.id = $2 AND s.account_id = $1 RETURNING id`,
    [p.accountId, p.siteId, p.name, p.holdSeconds, p.maxLeaseSeconds, p.exhaustionPolicy, p.dialplan ?? null],
  );
  return rows[0]?.id;
}

export async function findPool(db: Queryable, accountId: string, id: string): Promise<Pool | undefined> {
  const { rows } = await db.query<PoolRow>(`${SELECT_POOL} WHERE p.account_id = $1 AND p.id = $2`, [accountId, id]);
  return rows[0] && toPool(rows[0]);
}

export async function listPools(db: Queryable, accountId: string): Promise<Pool[]> {
  const { rows } = await db.query<PoolRow>(`${SELECT_POOL} WHERE p.account_id = $1 ORDER BY p.name`, [accountId]);
  return rows.map(toPool);
}

export async function setPoolDialplan(db: Queryable, accountId: string, id: string, dialplan: string | null): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE pools SET dialplan = $3 WHERE account_id = $1 AND id = $2', [accountId, id, dialplan]);
  return (rowCount ?? 0) > 0;
}
