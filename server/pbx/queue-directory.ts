import type { Db } from '../db/pool.js';
import { findQueueByName, listQueues } from './queues.repository.js';
import type { Queue } from './queues.schemas.js';

const FRESH_MS = 5_000;

export interface QueueDirectory {
  get(accountId: string, name: string): Promise<Queue | undefined>;
  list(accountId: string): Promise<Queue[]>;
  /** Queues changed (API): the next look-up reads them again. */
  invalidate(): void;
}

/** Queues from Postgres through a short cache that keeps the last copy while Postgres is away (callers still queue). */
export function createQueueDirectory(db: Db): QueueDirectory {
  const byName = new Map<string, { queue: Queue | undefined; at: number }>();
  const byAccount = new Map<string, { queues: Queue[]; at: number }>();
  return {
    async get(accountId, name) {
      const key = `${accountId}|${name.toLowerCase()}`;
      const hit = byName.get(key);
      if (hit && Date.now() - hit.at < FRESH_MS) return hit.queue;
      try {
        const queue = await findQueueByName(db, accountId, name);
        byName.set(key, { queue, at: Date.now() });
        return queue;
      } catch {
        return hit?.queue;
      }
    },
    async list(accountId) {
      const hit = byAccount.get(accountId);
      if (hit && Date.now() - hit.at < FRESH_MS) return hit.queues;
      try {
        const queues = await listQueues(db, accountId);
        byAccount.set(accountId, { queues, at: Date.now() });
        return queues;
      } catch {
        return hit?.queues ?? [];
      }
    },
    invalidate() {
      byName.clear();
      byAccount.clear();
    },
  };
}
