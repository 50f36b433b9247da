import type { Queryable } from '../db/pool.js';
import type { NumberGroup, NumberRoute, TrackingNumber } from './numbers.schemas.js';

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

/**
 * One page of numbers in E.164 order (keyset: `cursor` is the last number of the previous page),
 * with the total matching the filters. `digits` matches anywhere in the number without its "+".
 */
export async function pageNumbers(
  db: Queryable,
  accountId: string,
  page: {
    limit: number;
    cursor?: string | undefined;
    digits?: string[] | undefined;
    poolId?: string | undefined;
    sourceId?: string | undefined;
    free?: boolean | undefined;
  },
): Promise<{ items: TrackingNumber[]; total: number; nextCursor: string | null }> {
  const where = ['account_id = $1'];
  const params: unknown[] = [accountId];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (page.digits && page.digits.length > 0)
    add(
      (p) => `substr(number, 2) LIKE ANY (${p}::text[])`,
      page.digits.map((d) => `%${d}%`),
    );
  if (page.poolId) add((p) => `pool_id = ${p}`, page.poolId);
  if (page.sourceId) add((p) => `source_id = ${p}`, page.sourceId);
  if (page.free) where.push('pool_id IS NULL AND source_id IS NULL');
  const filter = where.join(' AND ');
  const total = await db.query<{ n: number }>(`SELECT count(*) AS n FROM numbers WHERE ${filter}`, params);
  const pageParams = [...params, page.limit + 1];
  let keyset = '';
  if (page.cursor) {
    pageParams.push(page.cursor);
    keyset = ` AND number > $${pageParams.length}`;
  }
  const { rows } = await db.query<NumberRow>(`SELECT * FROM numbers WHERE ${filter}${keyset} ORDER BY number LIMIT $${params.length + 1}`, pageParams);
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit).map(toNumber);
  return { items, total: total.rows[0]!.n, nextCursor: more ? items[items.length - 1]!.number : null };
}

/** How many numbers each pool and source holds, and how many are free: the Numbers page's groups. */
export async function numberGroups(db: Queryable, accountId: string): Promise<NumberGroup[]> {
  const { rows } = await db.query<{ kind: 'pool' | 'source' | 'free'; id: string | null; name: string; count: number }>(
    `SELECT 'pool' AS kind, p.id, p.name, count(n.id) AS count
       FROM pools p LEFT JOIN numbers n ON n.pool_id = p.id WHERE p.account_id = $1 GROUP BY p.id
     UNION ALL
     SELECT 'source', s.id, s.name, count(n.id) FROM sources s LEFT JOIN numbers n ON n.source_id = s.id WHERE s.account_id = $1 GROUP BY s.id
     UNION ALL
     SELECT 'free', NULL, 'Free numbers', count(*) FROM numbers WHERE account_id = $1 AND pool_id IS NULL AND source_id IS NULL
     ORDER BY 1, 3`,
    [accountId],
  );
  return rows;
}

/**
 * Adds many numbers on one trunk in a single statement (all of them or none if it fails).
 * Numbers already provisioned are skipped and returned as `existing`; undefined when the trunk is unknown.
 */
export async function insertNumbersBulk(
  db: Queryable,
  batch: { accountId: string; numbers: string[]; trunkId: string; dialplan?: string | undefined },
): Promise<{ added: string[]; existing: string[] } | undefined> {
  const trunk = await db.query('SELECT 1 FROM trunks WHERE id = $1 AND account_id = $2', [batch.trunkId, batch.accountId]);
  if (trunk.rowCount === 0) return undefined;
  const { rows } = await db.query<{ number: string }>(
    `INSERT INTO numbers (account_id, number, trunk_id, dialplan)
     SELECT $1, value, $3, $4 FROM unnest($2::text[]) AS value
     ON CONFLICT (number) DO NOTHING
     RETURNING number`,
    [batch.accountId, batch.numbers, batch.trunkId, batch.dialplan ?? null],
  );
  const added = new Set(rows.map((row) => row.number));
  return { added: [...added], existing: batch.numbers.filter((number) => !added.has(number)) };
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
