import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './pool.js';

export const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../migrations');

const MIGRATION_FILE = /^(\d{4})-[a-z0-9-]+\.sql$/;

/**
 * Rule: every migration must be re-runnable (IF NOT EXISTS, OR REPLACE, guarded seeds and
 * backfills): test/migrations.test.ts runs each file's SQL a second time and checks the schema
 * and data do not change. A half-recorded run or a hand-applied fix must never block the next start.
 *
 * Applies every numbered SQL file not yet recorded in schema_migrations, each in its own
 * transaction, in order. An advisory lock keeps two starting servers from racing.
 * Throws on the first failure so the caller can exit non-zero.
 */
/** The numbered migration files, in the order they apply. */
export async function migrationFiles(): Promise<string[]> {
  return (await fs.readdir(migrationsDir)).filter((f) => MIGRATION_FILE.test(f)).sort();
}

export async function migrate(db: Db, log: (msg: string) => void = () => {}): Promise<string[]> {
  const files = await migrationFiles();
  const client = await db.connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtext(current_schema()))');
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    const applied: string[] = [];
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await fs.readFile(path.join(migrationsDir, file), 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`migration ${file} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      log(`applied ${file}`);
      applied.push(file);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext(current_schema()))').catch(() => {});
    client.release();
  }
}
