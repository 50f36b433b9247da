import type { SessionVisitColumns } from '../attribution/visit.js';
import type { LeaseWrite } from '../numbers/leases.service.js';
import type { Redis } from '../redis/client.js';

/** Long enough to outlive the session write-behind (~200 ms) and its retries. */
const TTL_SECONDS = 120;

/**
 * The visit of page views just created, in Redis: sessions reach Postgres ~200 ms later, and a
 * call that fast must still get the visitor's visit. Attribution reads it only when Postgres
 * does not have the session yet.
 */
export interface RecentSessions {
  /** The write that keeps a page view's visit, made by the lease script only when a number was given. */
  entry(sessionId: string, visit: SessionVisitColumns): LeaseWrite;
  find(sessionId: string): Promise<SessionVisitColumns | null>;
}

export function createRecentSessions(redis: Redis): RecentSessions {
  const key = (sessionId: string) => `dni:visit:${sessionId}`;
  return {
    entry(sessionId, visit) {
      return { key: key(sessionId), value: JSON.stringify(visit), ttlSeconds: TTL_SECONDS, onlyLeased: true };
    },
    async find(sessionId) {
      const stored = await redis.get(key(sessionId)).catch(() => null);
      if (!stored) return null;
      try {
        return JSON.parse(stored) as SessionVisitColumns;
      } catch {
        return null;
      }
    },
  };
}
