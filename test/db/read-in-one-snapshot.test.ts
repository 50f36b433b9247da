/**
 * readInOneSnapshot: a report's parts, read at once on several connections, all see the database
 * as it was when the first began, also when rows land between their queries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, readInOneSnapshot } from '../../server/db/pool.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;

beforeAll(async () => {
  h = await createHarness();
  await h.db.query('CREATE TABLE snapshot_probe (n int)');
  await h.db.query('INSERT INTO snapshot_probe VALUES (1)');
});
afterAll(() => h.close());

const count = async (db: { query: (sql: string) => Promise<{ rows: Array<{ n: number }> }> }) =>
  (await db.query('SELECT count(*)::int AS n FROM snapshot_probe')).rows[0]!.n;

describe('readInOneSnapshot', () => {
  it('runs the parts on separate connections that share one snapshot', async () => {
    const pids = new Set<number>();
    const seen = await readInOneSnapshot<[number, number, number]>(
      h.db,
      ['SET LOCAL work_mem = 8192'],
      [
        async (db) => {
          pids.add((await db.query('SELECT pg_backend_pid() AS p')).rows[0].p);
          return count(db);
        },
        async (db) => {
          pids.add((await db.query('SELECT pg_backend_pid() AS p')).rows[0].p);
          // A row committed while the parts run is not seen by any of them.
          await h.db.query('INSERT INTO snapshot_probe VALUES (2)');
          return count(db);
        },
        async (db) => {
          pids.add((await db.query('SELECT pg_backend_pid() AS p')).rows[0].p);
          await new Promise((r) => setTimeout(r, 50));
          expect((await db.query('SHOW work_mem')).rows[0].work_mem).toBe('8MB');
          return count(db);
        },
      ],
    );
    expect(pids.size).toBe(3);
    expect(seen).toEqual([1, 1, 1]);
    expect(await count(h.db)).toBe(2);
  });

  it('reads one part after another on a pool too small to lend a connection each', async () => {
    const small = createDb({ url: h.config.database.url, poolSize: 1, schema: h.schema });
    try {
      const seen = await readInOneSnapshot<[number, number]>(small, [], [count, count]);
      expect(seen).toEqual([2, 2]);
    } finally {
      await small.end();
    }
  });

  it('ends every transaction when a part fails', async () => {
    await expect(
      readInOneSnapshot<[number, number]>(h.db, [], [count, async (db) => (await db.query('SELECT no_such_column FROM snapshot_probe')).rows[0]]),
    ).rejects.toThrow(/no_such_column/);
    // No connection went back to the pool inside an aborted transaction.
    expect(await Promise.all(Array.from({ length: 10 }, () => count(h.db)))).toEqual(Array(10).fill(2));
  });
});
