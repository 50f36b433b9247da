import type { Db } from '../db/pool.js';
import type { Redis } from '../redis/client.js';
import type { LeaseHistory } from './leases.history.js';
import { REBUILD_LUA, TOUCH_LUA } from './leases.lua.js';

/** What the lease service needs to know about a pool (cached by callers). */
export interface PoolLeaseConfig {
  id: string;
  holdSeconds: number;
  maxLeaseSeconds: number;
  exhaustionPolicy: 'default_number' | 'share';
}

export type LeaseStatus = 'new' | 'renewed' | 'shared' | 'exhausted' | 'max' | 'unknown';

export interface LeaseResult {
  status: LeaseStatus;
  /** Set for new, renewed and shared. */
  numberId: string | null;
  number: string | null;
  shared: boolean;
  start: Date;
  expiresAt: Date;
}

export interface LeaseService {
  /** Renews the session's live lease, or leases the pool number idle the longest. */
  acquire(pool: PoolLeaseConfig, sessionId: string): Promise<LeaseResult>;
  /** Renews the session's live lease (or leases again after it ran out); `unknown` when Redis never saw it. */
  keepAlive(pool: PoolLeaseConfig, sessionId: string): Promise<LeaseResult>;
  /** Loads the pool into Redis from Postgres when its keys are missing (no-op when present). */
  rebuild(pool: PoolLeaseConfig): Promise<void>;
  /** Drops the pool's Redis state (numbers changed); the next request rebuilds it. */
  invalidate(poolId: string): Promise<void>;
}

type TouchReply = [string, string?, string?, number?, number?, string?, number?];

/** The scripts as ioredis commands (defineCommand: EVALSHA with EVAL fallback, keys prefixed). */
interface LeaseCommands {
  dniTouch(k1: string, k2: string, k3: string, k4: string, k5: string, k6: string, k7: string, sid: string, mode: string): Promise<TouchReply>;
  dniRebuild(
    k1: string,
    k2: string,
    k3: string,
    k4: string,
    k5: string,
    k6: string,
    k7: string,
    hold: number,
    max: number,
    policy: string,
    json: string,
  ): Promise<number>;
}

export function poolKeys(poolId: string): [string, string, string, string, string, string, string] {
  const p = `dni:{${poolId}}:`;
  return [`${p}meta`, `${p}free`, `${p}leased`, `${p}owner`, `${p}bysess`, `${p}sessgc`, `${p}nums`];
}

/**
 * The lease hot path: one Lua call per request (atomic, so 10k parallel requests never hand one
 * number to two sessions), history written behind to Postgres.
 *
 * @example
 *   const leases = createLeaseService({ db, redis, history });
 *   const r = await leases.acquire(pool, sessionId); // r.status 'new' → show r.number
 */
export function createLeaseService({ db, redis: client, history }: { db: Db; redis: Redis; history: LeaseHistory }): LeaseService {
  if (!('dniTouch' in client)) {
    client.defineCommand('dniTouch', { numberOfKeys: 7, lua: TOUCH_LUA });
    client.defineCommand('dniRebuild', { numberOfKeys: 7, lua: REBUILD_LUA });
  }
  const redis = client as Redis & LeaseCommands;
  // One rebuild per pool at a time in this process: 10k requests arriving at an empty Redis must not run 10k loads.
  const rebuilding = new Map<string, Promise<void>>();

  async function rebuild(pool: PoolLeaseConfig): Promise<void> {
    const [nums, leases] = await Promise.all([
      db.query<{ id: string; number: string; idle: Date | null }>(
        `SELECT n.id, n.number, (SELECT max(upper(l.during)) FROM number_leases l WHERE l.number_id = n.id) AS idle
           FROM numbers n WHERE n.pool_id = $1`,
        [pool.id],
      ),
      db.query<{ number_id: string; session_id: string; a: Date; b: Date; shared: boolean }>(
        `SELECT l.number_id, l.session_id, lower(l.during) AS a, upper(l.during) AS b, l.shared
           FROM number_leases l JOIN numbers n ON n.id = l.number_id AND n.pool_id = $1
          WHERE l.pool_id = $1 AND upper(l.during) > now()`,
        [pool.id],
      ),
    ]);
    const data = {
      numbers: nums.rows.map((n) => [n.id, n.number, n.idle ? n.idle.getTime() : 0]),
      leases: leases.rows.map((l) => [l.number_id, l.session_id, l.a.getTime(), l.b.getTime(), l.shared ? 1 : 0]),
    };
    // cjson turns an empty table into {}, which ipairs handles the same as [].
    await redis.dniRebuild(...poolKeys(pool.id), pool.holdSeconds, pool.maxLeaseSeconds, pool.exhaustionPolicy, JSON.stringify(data));
  }

  async function touch(pool: PoolLeaseConfig, sessionId: string, mode: 'acquire' | 'keepalive'): Promise<LeaseResult> {
    let reply = await redis.dniTouch(...poolKeys(pool.id), sessionId, mode);
    if (reply[0] === 'rebuild') {
      // Redis lost the pool (restart, eviction, first use): history first, so no live lease is handed out twice.
      let once = rebuilding.get(pool.id);
      if (!once) {
        once = history
          .flush()
          .then(() => rebuild(pool))
          .finally(() => rebuilding.delete(pool.id));
        rebuilding.set(pool.id, once);
      }
      await once;
      reply = await redis.dniTouch(...poolKeys(pool.id), sessionId, mode);
    }
    const [status, numberId, number, startMs, expMs, shared, prevExpMs] = reply;
    const result: LeaseResult = {
      status: status as LeaseStatus,
      numberId: numberId || null,
      number: number || null,
      shared: shared === '1',
      start: new Date(Number(startMs ?? 0)),
      expiresAt: new Date(Number(expMs ?? 0)),
    };
    if (result.numberId && (status === 'new' || status === 'shared')) {
      history.leaseStarted({ numberId: result.numberId, poolId: pool.id, sessionId, start: result.start, expiresAt: result.expiresAt, shared: result.shared });
    } else if (result.numberId && status === 'renewed' && Number(expMs) > Number(prevExpMs)) {
      history.leaseExtended({ numberId: result.numberId, sessionId, start: result.start }, result.expiresAt);
    }
    if (status === 'exhausted' || status === 'shared') {
      history.exhausted({ poolId: pool.id, sessionId, policy: pool.exhaustionPolicy, at: result.start, holdSeconds: pool.holdSeconds });
    }
    return result;
  }

  return {
    acquire: (pool, sessionId) => touch(pool, sessionId, 'acquire'),
    keepAlive: (pool, sessionId) => touch(pool, sessionId, 'keepalive'),
    rebuild,
    async invalidate(poolId) {
      await redis.del(...poolKeys(poolId));
    },
  };
}
