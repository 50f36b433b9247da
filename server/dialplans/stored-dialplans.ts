import type { Db, Queryable } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { type Dialplan, parseDialplan } from './dialplan.schemas.js';

export interface StoredDialplans {
  /** The newest version of the account's plan; undefined when it has none by that name. */
  get(accountId: string, name: string): Dialplan | undefined;
  has(accountId: string, name: string): boolean;
  /** Re-reads every account's newest versions (after a save here; other nodes poll). */
  refresh(): Promise<void>;
  close(): void;
}

interface Row {
  account_id: string;
  name: string;
  plan: unknown;
}

/**
 * The plans accounts saved with /v1/dialplans, held in memory so an INVITE never waits on
 * Postgres: refreshed after every save and every `refreshMs` (how other nodes see a save), and kept
 * as they were while Postgres is away, so calls still route.
 */
export function createStoredDialplans({ db, logger, refreshMs = 5_000 }: { db: Db; logger: Logger; refreshMs?: number }): StoredDialplans {
  let plans = new Map<string, Dialplan>();
  const key = (accountId: string, name: string) => `${accountId}|${name.toLowerCase()}`;
  const log = logger.child({ component: 'stored-dialplans' });

  async function refresh(): Promise<void> {
    const { rows } = await db.query<Row>(
      'SELECT DISTINCT ON (account_id, name) account_id, name, plan FROM dialplan_versions ORDER BY account_id, name, version DESC',
    );
    const next = new Map<string, Dialplan>();
    for (const row of rows) {
      // Stored only after validation; a plan the schema has since outgrown is reported, not routed.
      const parsed = parseDialplan(row.plan);
      if (parsed.ok) next.set(key(row.account_id, row.name), parsed.plan);
      else log.error({ type: 'stored_dialplan_invalid', dialplan: row.name, error: parsed.error }, 'stored dialplan no longer valid');
    }
    plans = next;
  }

  const timer = setInterval(() => {
    refresh().catch((err: unknown) => log.warn({ err, type: 'stored_dialplans_stale' }, 'cannot refresh stored dialplans; keeping the loaded ones'));
  }, refreshMs);
  timer.unref();
  refresh().catch((err: unknown) => log.warn({ err, type: 'stored_dialplans_stale' }, 'cannot load stored dialplans yet'));

  return {
    get: (accountId, name) => plans.get(key(accountId, name)),
    has: (accountId, name) => plans.has(key(accountId, name)),
    refresh,
    close: () => clearInterval(timer),
  };
}

export interface DialplanVersion {
  version: number;
  plan: Dialplan;
  savedBy: string | null;
  note: string | null;
  createdAt: string;
}

export async function saveVersion(
  db: Queryable,
  v: { accountId: string; name: string; plan: Dialplan; savedBy: string | null; note: string | null },
): Promise<number> {
  const { rows } = await db.query<{ version: number }>(
    `INSERT INTO dialplan_versions (account_id, name, version, plan, saved_by, note)
     SELECT $1, $2, COALESCE(max(version), 0) + 1, $3, $4, $5 FROM dialplan_versions WHERE account_id = $1 AND name = $2
     RETURNING version`,
    [v.accountId, v.name, JSON.stringify(v.plan), v.savedBy, v.note],
  );
  return rows[0]!.version;
}

export async function listVersions(db: Queryable, accountId: string, name: string): Promise<DialplanVersion[]> {
  const { rows } = await db.query<{ version: number; plan: Dialplan; saved_by: string | null; note: string | null; created_at: Date }>(
    'SELECT version, plan, saved_by, note, created_at FROM dialplan_versions WHERE account_id = $1 AND name = $2 ORDER BY version DESC',
    [accountId, name],
  );
  return rows.map((r) => ({ version: r.version, plan: r.plan, savedBy: r.saved_by, note: r.note, createdAt: r.created_at.toISOString() }));
}

export async function listStoredNames(db: Queryable, accountId: string): Promise<Array<{ name: string; version: number; updatedAt: string }>> {
  const { rows } = await db.query<{ name: string; version: number; created_at: Date }>(
    `SELECT DISTINCT ON (name) name, version, created_at FROM dialplan_versions WHERE account_id = $1 ORDER BY name, version DESC`,
    [accountId],
  );
  return rows.map((r) => ({ name: r.name, version: r.version, updatedAt: r.created_at.toISOString() }));
}

export async function deleteStored(db: Queryable, accountId: string, name: string): Promise<boolean> {
  return ((await db.query('DELETE FROM dialplan_versions WHERE account_id = $1 AND name = $2', [accountId, name])).rowCount ?? 0) > 0;
}
