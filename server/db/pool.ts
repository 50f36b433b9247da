import pg from 'pg';

export type Db = pg.Pool;
export type DbClient = pg.PoolClient;
/** Repositories accept either the pool or a transaction's client (`findById(id, trx?)`). */
export type Queryable = pg.Pool | pg.PoolClient;

// bigint counts (COUNT(*)) come back as strings by default; our counts fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export interface DbOptions {
  url: string;
  poolSize: number;
  /** Isolates tests: every connection gets `search_path = <schema>, public`. */
  schema?: string;
  /** Server-side limit per statement: a runaway query is cancelled instead of holding a connection forever. */
  statementTimeoutMs?: number;
}

export function createDb({ url, poolSize, schema, statementTimeoutMs }: DbOptions): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 3_000,
    idleTimeoutMillis: 30_000,
    ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
    ...(schema ? { options: `-c search_path=${schema},public` } : {}),
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  return pool;
}

export async function withTransaction<T>(db: Db, work: (client: DbClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
