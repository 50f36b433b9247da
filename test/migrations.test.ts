import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrationFiles, migrationsDir } from '../server/db/migrate.js';
import { PG_EXCLUSION_VIOLATION, pgErrorCode } from '../server/errors.js';
import { createHarness, type Harness } from './helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

describe('migrations', () => {
  it('a second run applies nothing and fails nothing', async () => {
    expect(await migrate(h.db)).toEqual([]);
  });

  it("every file's SQL runs a second time without failing or changing the schema or data", async () => {
    // A number owned by a static source: the history backfill in 0010 must not record it twice.
    const {
      rows: [trunk],
    } = await h.db.query(`INSERT INTO trunks (account_id, name, addresses) VALUES ($1, 'rerun', '{127.0.0.1/32}') RETURNING id`, [DEFAULT_ACCOUNT]);
    const {
      rows: [source],
    } = await h.db.query(`INSERT INTO sources (account_id, name, kind, channel) VALUES ($1, 'flyer', 'offline', 'print') RETURNING id`, [DEFAULT_ACCOUNT]);
    await h.db.query(`INSERT INTO numbers (account_id, number, trunk_id, source_id) VALUES ($1, '+74957770001', $2, $3)`, [
      DEFAULT_ACCOUNT,
      trunk.id,
      source.id,
    ]);

    const before = await snapshot();
    // The comparison is only worth something if the snapshot sees what the migrations made.
    expect(before.triggers.map((trigger) => trigger.tgname)).toContain('numbers_source_history');
    expect(before.rowCounts.source_number_history).toBeGreaterThan(0);
    const files = await migrationFiles();
    expect(files.length).toBeGreaterThan(0);
    const client = await h.db.connect();
    const failures: string[] = [];
    try {
      for (const file of files) {
        const sql = await fs.readFile(path.join(migrationsDir, file), 'utf8');
        try {
          await client.query('BEGIN');
          await client.query(sql);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          failures.push(`${file}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    } finally {
      client.release();
    }
    expect(failures).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });
});

const DEFAULT_ACCOUNT = '00000000-0000-0000-0000-000000000001';

/** Everything a migration could leave behind in this test file's schema, by name and definition, plus row counts. */
async function snapshot() {
  const query = async (sql: string) => (await h.db.query(sql)).rows;
  const columns = await query(`
    SELECT table_name, column_name, ordinal_position, data_type, udt_name, is_nullable, column_default, is_identity
      FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`);
  const indexes = await query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname`);
  const constraints = await query(`
    SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
      FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2`);
  const triggers = await query(`
    SELECT tgrelid::regclass::text AS table_name, tgname, pg_get_triggerdef(t.oid) AS definition
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
     WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal ORDER BY 1, 2`);
  const functions = await query(`
    SELECT proname, pg_get_functiondef(oid) AS definition FROM pg_proc WHERE pronamespace = current_schema()::regnamespace ORDER BY 1`);
  const tables = await query(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`);
  const rowCounts: Record<string, number> = {};
  for (const { table_name } of tables) {
    const {
      rows: [counted],
    } = await h.db.query(`SELECT count(*)::int AS count FROM ${h.schema}."${table_name}"`);
    rowCounts[table_name] = counted.count;
  }
  return { columns, indexes, constraints, triggers, functions, rowCounts };
}

describe('number_leases exclusion constraint', () => {
  async function fixture() {
    const {
      rows: [trunk],
    } = await h.db.query(
      `INSERT INTO trunks (account_id, name, addresses) VALUES ('00000000-0000-0000-0000-000000000001', 'c' || random(), '{127.0.0.1/32}') RETURNING id`,
    );
    const {
      rows: [site],
    } = await h.db.query(
      `INSERT INTO sites (account_id, name, domains, default_number, site_key) VALUES ('00000000-0000-0000-0000-000000000001', 's', '{a.example}', '+74950000000', 'k' || random()) RETURNING id`,
    );
    const {
      rows: [pool],
    } = await h.db.query(
      `INSERT INTO pools (account_id, site_id, name, hold_seconds) VALUES ('00000000-0000-0000-0000-000000000001', $1, 'p' || random(), 60) RETURNING id`,
      [site.id],
    );
    const {
      rows: [num],
    } = await h.db.query(
      `INSERT INTO numbers (account_id, number, trunk_id, pool_id) VALUES ('00000000-0000-0000-0000-000000000001', '+7495' || (1000000 + floor(random() * 8999999))::text, $1, $2) RETURNING id`,
      [trunk.id, pool.id],
    );
    return { poolId: pool.id as string, numberId: num.id as string };
  }
  const lease = (f: { poolId: string; numberId: string }, from: string, to: string, shared = false) =>
    h.db.query(`INSERT INTO number_leases (number_id, pool_id, session_id, during, shared) VALUES ($1, $2, gen_random_uuid(), tstzrange($3, $4), $5)`, [
      f.numberId,
      f.poolId,
      from,
      to,
      shared,
    ]);

  it('rejects two overlapping exclusive leases of one number', async () => {
    const f = await fixture();
    await lease(f, '2026-11-22T10:00:00Z', '2026-11-22T10:30:00Z');
    const err = await lease(f, '2026-11-22T10:29:00Z', '2026-11-22T11:00:00Z').catch((e: unknown) => e);
    expect(pgErrorCode(err)).toBe(PG_EXCLUSION_VIOLATION);
  });

  it('accepts back-to-back leases and shared leases during exhaustion', async () => {
    const f = await fixture();
    await lease(f, '2026-11-22T10:00:00Z', '2026-11-22T10:30:00Z');
    await expect(lease(f, '2026-11-22T10:30:00Z', '2026-11-22T11:00:00Z')).resolves.toBeDefined();
    await expect(lease(f, '2026-11-22T10:10:00Z', '2026-11-22T10:20:00Z', true)).resolves.toBeDefined();
  });
});
