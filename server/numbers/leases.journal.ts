import crypto from 'node:crypto';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis/client.js';
import type { ExhaustionEvent, LeaseStart } from './leases.history.js';

/** One change of the lease history, as it waits for Postgres. */
export type JournalEntry =
  | { kind: 'start'; lease: LeaseStart }
  | { kind: 'extend'; key: { numberId: string; sessionId: string; start: Date }; expiresAt: Date }
  | { kind: 'exhausted'; event: ExhaustionEvent };

/**
 * The lease history's write-behind queue, journaled in Redis (append-only file, fsync every
 * second) so a crash loses none of it: each process appends to its own list, trims what Postgres
 * has taken, and keeps an "alive" key fresh. A process that finds another's list without that key
 * replays it into Postgres (the writes are idempotent) and deletes it.
 */
export interface LeaseJournal {
  append(entry: JournalEntry): void;
  /** Postgres has the first `count` entries appended (in order). */
  written(count: number): void;
  /** Replays the journals of processes that are gone; returns how many entries. */
  recoverOrphans(replay: (entries: JournalEntry[]) => Promise<void>): Promise<number>;
  close(): void;
}

const REGISTRY = 'lease-journals';
const listKey = (id: string) => `lease-journal:${id}`;
const aliveKey = (id: string) => `lease-journal-alive:${id}`;

function revive(raw: string): JournalEntry | undefined {
  try {
    const entry = JSON.parse(raw) as JournalEntry;
    if (entry.kind === 'start') {
      entry.lease.start = new Date(entry.lease.start);
      entry.lease.expiresAt = new Date(entry.lease.expiresAt);
    } else if (entry.kind === 'extend') {
      entry.key.start = new Date(entry.key.start);
      entry.expiresAt = new Date(entry.expiresAt);
    } else if (entry.kind === 'exhausted') {
      entry.event.at = new Date(entry.event.at);
    } else {
      return undefined;
    }
    return entry;
  } catch {
    return undefined;
  }
}

export function createLeaseJournal({
  redis,
  logger,
  aliveSeconds = 30,
  heartbeatMs = (aliveSeconds * 1000) / 3,
}: {
  redis: Redis;
  logger: Logger;
  aliveSeconds?: number;
  heartbeatMs?: number;
}): LeaseJournal {
  const id = crypto.randomUUID();
  const warn = (err: unknown) =>
    logger.warn({ err, type: 'lease_journal_failed' }, 'lease journal unavailable (Redis); history rides on memory until it is back');
  // Registering again on every beat: a registration lost to Redis being away when this process
  // started (or restarting since) would leave a crash's journal where no one looks for it.
  const beat = () => Promise.all([redis.sadd(REGISTRY, id), redis.set(aliveKey(id), '1', 'EX', aliveSeconds)]).catch(warn);
  // A client still connecting (no offline queue) would refuse the first beat: it waits for the connection.
  if (redis.status === 'ready') void beat();
  else redis.once('ready', () => void beat());
  const heartbeat = setInterval(() => void beat(), heartbeatMs);
  heartbeat.unref();
  // Entries of one event-loop turn go in one RPUSH: as durable as one command each (those too
  // wait for the turn's end in the auto-pipeline), at a fraction of the cost per lease.
  let queued: string[] = [];
  const push = () => {
    if (queued.length === 0) return;
    void redis.rpush(listKey(id), ...queued).catch(warn);
    queued = [];
  };

  return {
    append(entry) {
      if (queued.length === 0) setImmediate(push);
      queued.push(JSON.stringify(entry));
    },
    written(count) {
      push(); // in order: the trim counts entries that must be in the list already
      if (count > 0) void redis.ltrim(listKey(id), count, -1).catch(warn);
    },
    async recoverOrphans(replay) {
      let replayed = 0;
      for (const other of await redis.smembers(REGISTRY)) {
        if (other === id || (await redis.exists(aliveKey(other)))) continue;
        const entries = (await redis.lrange(listKey(other), 0, -1)).map(revive).filter((entry): entry is JournalEntry => entry !== undefined);
        if (entries.length > 0) await replay(entries);
        await redis.del(listKey(other));
        await redis.srem(REGISTRY, other);
        replayed += entries.length;
      }
      if (replayed > 0) logger.info({ type: 'lease_journal_recovered', entries: replayed }, 'lease history of a stopped process recovered from its journal');
      return replayed;
    },
    close() {
      clearInterval(heartbeat);
      queued = [];
      // A clean stop flushed everything: nothing for anyone to replay.
      void redis
        .del(listKey(id), aliveKey(id))
        .then(() => redis.srem(REGISTRY, id))
        .catch(() => {});
    },
  };
}
