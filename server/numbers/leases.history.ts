import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { JournalEntry, LeaseJournal } from './leases.journal.js';

export interface LeaseStart {
  numberId: string;
  poolId: string;
  sessionId: string;
  /** The visitor holding the lease; null when the session held it alone (no visitor id). */
  visitorId?: string | null;
  start: Date;
  expiresAt: Date;
  shared: boolean;
  reusedInCooldown?: boolean;
}
export interface ExhaustionEvent {
  poolId: string;
  sessionId: string;
  policy: 'default_number' | 'share';
  at: Date;
  holdSeconds: number;
}

/**
 * Write-behind of the lease hot path into Postgres (number_leases, pool_exhaustion_events).
 *
 * A lease row is written with the range [start, expiry) that Redis computed; a keep-alive moves
 * the upper bound. Rows are queued and flushed in batches (every `intervalMs`, or at once when
 * `maxBatch` rows are waiting) so the snippet never waits on Postgres. Inserts always flush
 * before the extensions queued after them, and an extension of a row still in the queue just
 * updates the queued row. Redis hands a number out again only after its expiry, and both sides
 * use Redis TIME, so a late flush never overlaps a newer lease of that number.
 * A failed write is queued again and retried every second (bounded). With a `journal` (Redis,
 * append-only) a crash loses nothing: another process replays what this one had not written.
 * Without one, a crash loses at most one interval of rows; `close()` flushes on shutdown.
 */
export interface LeaseHistory {
  leaseStarted(l: LeaseStart): void;
  leaseExtended(key: { numberId: string; sessionId: string; start: Date }, expiresAt: Date): void;
  exhausted(e: ExhaustionEvent): void;
  /** Writes everything queued so far; resolves when it is in Postgres. */
  flush(): Promise<void>;
  close(): Promise<void>;
  pending(): number;
  /** Replays the journals of stopped processes now (also done every `recoverEveryMs`). */
  recover(): Promise<number>;
}

const MAX_QUEUED = 200_000;
const RETRY_MS = 1_000;

const keyOf = (numberId: string, sessionId: string, start: Date) => `${numberId}|${sessionId}|${start.getTime()}`;

export function createLeaseHistory({
  db,
  logger,
  intervalMs = 200,
  maxBatch = 500,
  journal,
  recoverEveryMs = 30_000,
}: {
  db: Db;
  logger: Logger;
  intervalMs?: number;
  maxBatch?: number;
  journal?: LeaseJournal | undefined;
  /** How often journals of stopped processes are looked for and replayed. */
  recoverEveryMs?: number;
}): LeaseHistory {
  let inserts = new Map<string, LeaseStart>();
  let extensions = new Map<string, { numberId: string; sessionId: string; start: Date; expiresAt: Date }>();
  let events: ExhaustionEvent[] = [];
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;
  /** Journaled changes not yet in Postgres, in the order they were appended. */
  let unwritten = 0;
  const journaled = (entry: JournalEntry) => {
    if (!journal) return;
    journal.append(entry);
    unwritten++;
  };

  const size = () => inserts.size + extensions.size + events.length;
  const pendingCount = size;

  /** Writes the journals of processes that stopped without writing them (idempotent writes). */
  async function recover(): Promise<number> {
    if (!journal) return 0;
    return journal.recoverOrphans(async (entries) => {
      const ins = new Map<string, LeaseStart>();
      const ext = new Map<string, { numberId: string; sessionId: string; start: Date; expiresAt: Date }>();
      const ev: ExhaustionEvent[] = [];
      for (const entry of entries) {
        if (entry.kind === 'start') ins.set(keyOf(entry.lease.numberId, entry.lease.sessionId, entry.lease.start), entry.lease);
        else if (entry.kind === 'exhausted') ev.push(entry.event);
        else {
          const key = keyOf(entry.key.numberId, entry.key.sessionId, entry.key.start);
          const previous = ext.get(key);
          if (!previous || previous.expiresAt < entry.expiresAt) ext.set(key, { ...entry.key, expiresAt: entry.expiresAt });
        }
      }
      await writeBatch([...ins.values()], ext, ev);
    });
  }
  const recoverTimer = setInterval(
    () => void recover().catch((err: unknown) => logger.warn({ err, type: 'lease_journal_recover_failed' }, 'lease journal recovery failed')),
    recoverEveryMs,
  );
  recoverTimer.unref();
  const schedule = () => {
    if (closed) return;
    if (size() >= maxBatch) {
      void flush();
      return;
    }
    timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, intervalMs);
  };

  async function writeBatch(ins: LeaseStart[], ext: typeof extensions, ev: ExhaustionEvent[]): Promise<void> {
    if (ins.length > 0) {
      // ON CONFLICT DO NOTHING also covers the exclusion constraint: one bad row (a Redis rebuilt
      // from stale data) must not lose the whole batch; it is logged instead.
      const res = await db.query(
        `INSERT INTO number_leases (number_id, pool_id, session_id, during, shared, visitor_id, reused_in_cooldown)
         SELECT n, p, s, tstzrange(a, b), sh, vid, ru
           FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[], $5::timestamptz[], $6::bool[], $7::text[], $8::bool[]) AS v(n, p, s, a, b, sh, vid, ru)
         ON CONFLICT DO NOTHING`,
        [
          ins.map((l) => l.numberId),
          ins.map((l) => l.poolId),
          ins.map((l) => l.sessionId),
          ins.map((l) => l.start),
          ins.map((l) => l.expiresAt),
          ins.map((l) => l.shared),
          ins.map((l) => l.visitorId ?? null),
          ins.map((l) => l.reusedInCooldown ?? false),
        ],
      );
      if ((res.rowCount ?? 0) < ins.length)
        logger.warn(
          { type: 'lease_history_conflict', dropped: ins.length - (res.rowCount ?? 0) },
          'lease rows overlapping an existing exclusive lease were not written',
        );
    }
    if (ext.size > 0) {
      const e = [...ext.values()];
      await db.query(
        `UPDATE number_leases l SET during = tstzrange(lower(l.during), v.b)
           FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[]) AS v(n, s, a, b)
          WHERE l.session_id = v.s AND l.number_id = v.n AND lower(l.during) = v.a AND upper(l.during) < v.b`,
        [e.map((x) => x.numberId), e.map((x) => x.sessionId), e.map((x) => x.start), e.map((x) => x.expiresAt)],
      );
    }
    if (ev.length > 0) {
      await db.query(
        `INSERT INTO pool_exhaustion_events (pool_id, session_id, policy, at, hold_seconds)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::int[])`,
        [ev.map((x) => x.poolId), ev.map((x) => x.sessionId), ev.map((x) => x.policy), ev.map((x) => x.at), ev.map((x) => x.holdSeconds)],
      );
    }
  }

  function flush(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    const ins = [...inserts.values()];
    const ext = extensions;
    const ev = events;
    const batchEntries = unwritten;
    unwritten = 0;
    inserts = new Map();
    extensions = new Map();
    events = [];
    // Batches run one after another so an extension never overtakes its insert.
    running = running.then(async () => {
      if (ins.length === 0 && ext.size === 0 && ev.length === 0) return;
      try {
        await writeBatch(ins, ext, ev);
        journal?.written(batchEntries);
      } catch (err) {
        // Postgres away: keep the rows (late calls need them) and try again later, up to a bound.
        if (closed || size() + ins.length + ext.size + ev.length > MAX_QUEUED) {
          logger.error({ err, type: 'lease_history_lost', leases: ins.length, extensions: ext.size, events: ev.length }, 'lease history could not be written');
          journal?.written(batchEntries);
          return;
        }
        unwritten += batchEntries; // still in the journal, ahead of what came since
        logger.warn({ err, type: 'lease_history_retry', leases: ins.length }, 'lease history write failed; retrying');
        for (const l of ins) if (!inserts.has(keyOf(l.numberId, l.sessionId, l.start))) inserts.set(keyOf(l.numberId, l.sessionId, l.start), l);
        for (const [k, e] of ext) {
          const queued = inserts.get(k);
          if (queued) {
            if (e.expiresAt > queued.expiresAt) queued.expiresAt = e.expiresAt;
            continue;
          }
          const newer = extensions.get(k);
          if (!newer || newer.expiresAt < e.expiresAt) extensions.set(k, e);
        }
        events = [...ev, ...events];
        retryTimer ??= setTimeout(() => {
          retryTimer = undefined;
          void flush();
        }, RETRY_MS);
      }
    });
    return running;
  }

  return {
    leaseStarted(l) {
      journaled({ kind: 'start', lease: l });
      inserts.set(keyOf(l.numberId, l.sessionId, l.start), l);
      schedule();
    },
    leaseExtended(k, expiresAt) {
      journaled({ kind: 'extend', key: k, expiresAt });
      const key = keyOf(k.numberId, k.sessionId, k.start);
      const queued = inserts.get(key);
      if (queued) {
        if (expiresAt > queued.expiresAt) queued.expiresAt = expiresAt;
        return;
      }
      const prev = extensions.get(key);
      if (!prev || expiresAt > prev.expiresAt) extensions.set(key, { ...k, expiresAt });
      schedule();
    },
    exhausted(e) {
      journaled({ kind: 'exhausted', event: e });
      events.push(e);
      schedule();
    },
    flush,
    async close() {
      clearInterval(recoverTimer);
      await flush();
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      if (pendingCount() === 0) journal?.close();
    },
    recover,
    pending: pendingCount,
  };
}
