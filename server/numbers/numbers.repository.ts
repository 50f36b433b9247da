import type { Queryable } from '../db/pool.js';
import type { NumberRoute, TrackingNumber } from './numbers.schemas.js';

interface NumberRow {
  id: string;
  account_id: string;
  number: string;
  trunk_id: string;
  pool_id: string | null;
  source_id: string | null;
  dialplan: string | null;
  quarantine_until: Date | null;
  created_at: Date;
}

const toNumber = (r: NumberRow): TrackingNumber => ({
  id: r.id,
  number: r.number,
  trunkId: r.trunk_id,
  poolId: r.pool_id,
  sourceId: r.source_id,
  dialplan: r.dialplan,
  quarantineUntil: r.quarantine_until?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
});

export async function insertNumber(
  db: Queryable,
  n: { accountId: string; number: string; trunkId: string; dialplan?: string },
): Promise<TrackingNumber | undefined> {
  const { rows } = await db.query<NumberRow>(
    `INSERT INTO numbers (account_id, number, trunk_id, dialplan)
     SELECT $1, $2, t.id, $4 FROM trunks t WHERE t.id = $3 AND t.account_id = $1
     RETURNING *`,
    [n.accountId, n.number, n.trunkId, n.dialplan ?? null],
  );
  return rows[0] && toNumber(rows[0]);
}

export async function listNumbers(db: Queryable, accountId: string): Promise<TrackingNumber[]> {
  const { rows } = await db.query<NumberRow>('SELECT * FROM numbers WHERE account_id = $1 ORDER BY number', [accountId]);
  return rows.map(toNumber);
}

export async function findNumber(db: Queryable, accountId: string, number: string): Promise<TrackingNumber | undefined> {
  const { rows } = await db.query<NumberRow>('SELECT * FROM numbers WHERE account_id = $1 AND number = $2', [accountId, number]);
  return rows[0] && toNumber(rows[0]);
}

export async function findNumbersByValue(db: Queryable, accountId: string, numbers: string[]): Promise<TrackingNumber[]> {
  const { rows } = await db.query<NumberRow>('SELECT * FROM numbers WHERE account_id = $1 AND number = ANY($2::text[])', [accountId, numbers]);
  return rows.map(toNumber);
}

export async function setNumberDialplan(db: Queryable, accountId: string, number: string, dialplan: string | null): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE numbers SET dialplan = $3 WHERE account_id = $1 AND number = $2', [accountId, number, dialplan]);
  return (rowCount ?? 0) > 0;
}

export async function deleteNumber(db: Queryable, accountId: string, number: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM numbers WHERE account_id = $1 AND number = $2', [accountId, number]);
  return (rowCount ?? 0) > 0;
}

/** Binds numbers to a pool or a source; only numbers that belong to neither are taken. */
export async function assignNumbers(db: Queryable, accountId: string, numberIds: string[], owner: { poolId: string } | { sourceId: string }): Promise<number> {
  const [column, id] = 'poolId' in owner ? ['pool_id', owner.poolId] : ['source_id', owner.sourceId];
  const { rowCount } = await db.query(
    `UPDATE numbers SET ${column} = $3 WHERE account_id = $1 AND id = ANY($2::uuid[]) AND pool_id IS NULL AND source_id IS NULL`,
    [accountId, numberIds, id],
  );
  return rowCount ?? 0;
}

const ROUTE_SQL = `
  SELECT n.id AS number_id, n.number, n.account_id, n.trunk_id, n.pool_id, n.source_id, p.site_id,
         COALESCE(n.dialplan, p.dialplan, s.dialplan, site.dialplan) AS dialplan
  FROM numbers n
  LEFT JOIN pools p ON p.id = n.pool_id
  LEFT JOIN sources s ON s.id = n.source_id
  LEFT JOIN sites site ON site.id = p.site_id`;

interface RouteRow {
  number_id: string;
  number: string;
  account_id: string;
  trunk_id: string;
  pool_id: string | null;
  source_id: string | null;
  site_id: string | null;
  dialplan: string | null;
}
const toRoute = (r: RouteRow): NumberRoute => ({
  numberId: r.number_id,
  number: r.number,
  accountId: r.account_id,
  trunkId: r.trunk_id,
  poolId: r.pool_id,
  sourceId: r.source_id,
  siteId: r.site_id,
  dialplan: r.dialplan,
});

export async function findRoute(db: Queryable, number: string): Promise<NumberRoute | undefined> {
  const { rows } = await db.query<RouteRow>(`${ROUTE_SQL} WHERE n.number = $1`, [number]);
  return rows[0] && toRoute(rows[0]);
}

/** Every route at once, for the call path's in-memory cache (fail-open routing). */
export async function listRoutes(db: Queryable): Promise<NumberRoute[]> {
  const { rows } = await db.query<RouteRow>(ROUTE_SQL);
  return rows.map(toRoute);
}
