// Retention of the tables that grow with traffic: website sessions and the leads outbox.
import type { Db } from './db/pool.js';
import { deleteOldSessions } from './dni/sessions-retention.repository.js';
import { deleteDeliveredBefore, deleteOrphanEventsBefore } from './leads/outbox-retention.repository.js';
import type { Logger } from './logger.js';

export interface RetentionPolicy {
  /** Website sessions older than this, not referenced by a call, are deleted; 0 keeps them. */
  sessionDays: number;
  /** Delivered outbox rows older than this are deleted (dead ones are kept); 0 keeps them. */
  leadDays: number;
  /** Rows per DELETE: short statements keep locks and WAL bursts small. */
  batch?: number;
}

export interface RetentionResult {
  sessions: number;
  deliveries: number;
  events: number;
}

const DAY_MS = 86_400_000;

async function inBatches(run: () => Promise<number>, batch: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await run();
    total += n;
    if (n < batch) return total;
  }
}

/** One pass over every retention rule. */
export async function runRetention(db: Db, policy: RetentionPolicy, now = new Date()): Promise<RetentionResult> {
  const batch = policy.batch ?? 5_000;
  const result: RetentionResult = { sessions: 0, deliveries: 0, events: 0 };
  if (policy.sessionDays > 0) {
    const before = new Date(now.getTime() - policy.sessionDays * DAY_MS);
    result.sessions = await inBatches(() => deleteOldSessions(db, before, batch), batch);
  }
  if (policy.leadDays > 0) {
    const before = new Date(now.getTime() - policy.leadDays * DAY_MS);
    result.deliveries = await inBatches(() => deleteDeliveredBefore(db, before, batch), batch);
    result.events = await inBatches(() => deleteOrphanEventsBefore(db, before, batch), batch);
  }
  return result;
}

/**
 * Runs the retention pass soon after start and then every `everyMs` (default hourly).
 *
 * @example const stop = scheduleRetention(db, { sessionDays: 400, leadDays: 30 }, logger); // on shutdown: stop()
 */
export function scheduleRetention(db: Db, policy: RetentionPolicy, logger: Logger, everyMs = 3_600_000): () => void {
  if (policy.sessionDays === 0 && policy.leadDays === 0) return () => {};
  let running = false;
  const sweep = () => {
    if (running) return;
    running = true;
    runRetention(db, policy)
      .then((r) => {
        if (r.sessions + r.deliveries + r.events > 0) logger.info({ type: 'retention', ...r }, 'old rows deleted');
      })
      .catch((err: unknown) => logger.warn({ err }, 'retention sweep failed; next run retries'))
      .finally(() => {
        running = false;
      });
  };
  const first = setTimeout(sweep, 60_000);
  const timer = setInterval(sweep, everyMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
