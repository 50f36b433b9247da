import type { SessionVisitColumns } from '../attribution/visit.js';
import type { Db, Queryable } from '../db/pool.js';
import type { Logger } from '../logger.js';

export interface SiteContext {
  siteId: string;
  accountId: string;
  domains: string[];
  defaultNumber: string;
  pool: { id: string; holdSeconds: number; maxLeaseSeconds: number; exhaustionPolicy: 'default_number' | 'share'; cooldownSeconds: number | null } | null;
}

interface SiteRow {
  id: string;
  account_id: string;
  domains: string[];
  default_number: string;
  pool_id: string | null;
  hold_seconds: number | null;
  max_lease_seconds: number | null;
  exhaustion_policy: 'default_number' | 'share' | null;
  cooldown_seconds: number | null;
}

const toContext = (r: SiteRow): SiteContext => ({
  siteId: r.id,
  accountId: r.account_id,
  domains: r.domains,
  defaultNumber: r.default_number,
  pool: r.pool_id
    ? {
        id: r.pool_id,
        holdSeconds: r.hold_seconds!,
        maxLeaseSeconds: r.max_lease_seconds!,
        exhaustionPolicy: r.exhaustion_policy!,
        cooldownSeconds: r.cooldown_seconds,
      }
    : null,
});

// A site may have several pools; the snippet uses the oldest (the one it was set up with).
const SITE_SQL = `SELECT s.id, s.account_id, s.domains, s.default_number, p.id AS pool_id, p.hold_seconds, p.max_lease_seconds, p.exhaustion_policy, p.cooldown_seconds
  FROM sites s LEFT JOIN LATERAL (SELECT * FROM pools WHERE site_id = s.id ORDER BY created_at, id LIMIT 1) p ON true`;

export async function findSiteContextByKey(db: Queryable, siteKey: string): Promise<SiteContext | undefined> {
  const { rows } = await db.query<SiteRow>(`${SITE_SQL} WHERE s.site_key = $1`, [siteKey]);
  return rows[0] && toContext(rows[0]);
}

export async function findSiteContextById(db: Queryable, siteId: string): Promise<SiteContext | undefined> {
  const { rows } = await db.query<SiteRow>(`${SITE_SQL} WHERE s.id = $1`, [siteId]);
  return rows[0] && toContext(rows[0]);
}

/** The site and visitor of a session, when the Redis index has lost it. */
export async function findSessionSite(db: Queryable, sessionId: string): Promise<{ siteId: string; visitorId: string } | undefined> {
  const { rows } = await db.query<{ site_id: string; visitor_id: string }>('SELECT site_id, visitor_id FROM dni_sessions WHERE id = $1', [sessionId]);
  return rows[0] && { siteId: rows[0].site_id, visitorId: rows[0].visitor_id };
}

/** A dni_sessions row in column names (written as JSON through jsonb_populate_recordset). */
export interface SessionRow extends SessionVisitColumns {
  id: string;
  account_id: string;
  site_id: string;
  pool_id: string | null;
  visitor_id: string;
  url: string | null;
  user_agent: string | null;
  ip: string | null;
  bot: boolean;
  number: string | null;
  created_at: string;
  last_seen_at: string;
}

/**
 * Write-behind of sessions, like the lease history: the snippet's answer never waits on
 * Postgres. New rows and last-seen updates are batched; attribution needs the row only when
 * a call arrives, seconds later at the earliest.
 */
export interface VisitorSessionWriter {
  add(row: SessionRow): void;
  seen(sessionId: string, at: Date): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createVisitorSessionWriter({
  db,
  logger,
  intervalMs = 200,
  maxBatch = 500,
}: {
  db: Db;
  logger: Logger;
  intervalMs?: number;
  maxBatch?: number;
}): VisitorSessionWriter {
  // Rows wait as their JSON: one string per page view is cheaper for the young-generation GC to
  // carry through the interval than the row's object graph, and the batch is a join of them.
  let rows = new Map<string, string>();
  let seen = new Map<string, Date>();
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const schedule = () => {
    if (closed) return;
    if (rows.size + seen.size >= maxBatch) {
      void flush();
      return;
    }
    timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, intervalMs);
  };

  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const batch = [...rows.values()];
    const touches = seen; // after the inserts: a touch of a row in this batch finds it
    rows = new Map();
    seen = new Map();
    running = running.then(async () => {
      try {
        if (batch.length > 0) {
          await db.query(
            `INSERT INTO dni_sessions SELECT * FROM jsonb_populate_recordset(null::dni_sessions, $1::jsonb)
             ON CONFLICT (id) DO UPDATE SET last_seen_at = GREATEST(dni_sessions.last_seen_at, EXCLUDED.last_seen_at)`,
            [`[${batch.join(',')}]`],
          );
        }
        if (touches.size > 0) {
          await db.query(
            `UPDATE dni_sessions s SET last_seen_at = v.t FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, t)
              WHERE s.id = v.id AND s.last_seen_at < v.t`,
            [[...touches.keys()], [...touches.values()]],
          );
        }
      } catch (err) {
        logger.error({ err, type: 'dni_session_write_failed', sessions: batch.length }, 'visitor sessions could not be written');
      }
    });
    return running;
  }

  return {
    add(row) {
      rows.set(row.id, JSON.stringify(row));
      schedule();
    },
    seen(id, at) {
      seen.set(id, at);
      schedule();
    },
    flush,
    async close() {
      await flush();
      closed = true;
    },
  };
}
