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

/**
 * Runs read-only queries at once, each on its own connection, all inside one snapshot (exported by
 * the first transaction), so a report split into parts adds up as if it were one query while
 * Postgres works on them on several cores. `setup` statements (SET LOCAL …) run in each
 * transaction first. When the pool cannot lend a connection per part without making others
 * wait, the parts run one after another in a single transaction instead.
 */
export async function readInOneSnapshot<T extends unknown[]>(
  pool: Db,
  setup: readonly string[],
  reads: { [K in keyof T]: (db: DbClient) => Promise<T[K]> },
): Promise<T> {
  const max = pool.options.max ?? 10;
  const spare = pool.idleCount + (max - pool.totalCount) - pool.waitingCount;
  const width = spare >= reads.length ? reads.length : 1;
  const clients: DbClient[] = [];
  let failed = false;
  try {
    for (let i = 0; i < width; i++) clients.push(await pool.connect());
    const [first, ...rest] = clients;
    await first!.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (rest.length > 0) {
      const snapshot = (await first!.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]!.id;
      await Promise.all(
        rest.map(async (c) => {
          await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
          await c.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, '')}'`);
        }),
      );
    }
    for (const c of clients) for (const statement of setup) await c.query(statement);
    const results =
      width === reads.length
        ? await Promise.all(reads.map((read, i) => read(clients[i]!)))
        : await reads.reduce<Promise<unknown[]>>(async (done, read) => [...(await done), await read(first!)], Promise.resolve([]));
    await Promise.all(clients.map((c) => c.query('COMMIT')));
    return results as T;
  } catch (err) {
    failed = true;
    await Promise.all(clients.map((c) => c.query('ROLLBACK').catch(() => {})));
    throw err;
  } finally {
    for (const c of clients) c.release(failed ? true : undefined);
  }
}
