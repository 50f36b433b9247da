import type { Db } from '../db/pool.js';
import type { Redis } from '../redis/client.js';
import type { LeaseHistory } from './leases.history.js';
import { LEASE_LUA, REBUILD_LUA } from './leases.lua.js';

/** What the lease service needs to know about a pool (cached by callers). */
export interface PoolLeaseConfig {
  id: string;
  holdSeconds: number;
  maxLeaseSeconds: number;
  exhaustionPolicy: 'default_number' | 'share';
  /** Learned cool-down (p99 of measured call delays); null until measured: then defaultCooldownSeconds. */
  cooldownSeconds?: number | null;
}

/**
 * Cool-down before any call was measured: as long as attribution still expects late callers
 * after a hold ran out (5 min, or the hold when longer).
 */
export const defaultCooldownSeconds = (holdSeconds: number) => Math.max(300, holdSeconds);

/** The cool-down a pool runs with: the learned one, never shorter than the hold. */
export const effectiveCooldownSeconds = (pool: Pick<PoolLeaseConfig, 'holdSeconds' | 'cooldownSeconds'>) =>
  Math.max(pool.holdSeconds, pool.cooldownSeconds ?? defaultCooldownSeconds(pool.holdSeconds));

export type LeaseStatus = 'new' | 'renewed' | 'shared' | 'exhausted' | 'max' | 'unknown' | 'capped';

/**
 * Caps on the live leases of groups of holders (a client address, its network), kept in sorted
 * sets of holders scored by lease expiry: an acquire finding any set at its cap is refused
 * (`capped`), and every lease, new or renewed, enters the holder in each set. Checked and joined
 * in the lease's own script, so parallel requests cannot all slip under a cap.
 */
export interface LeaseGuard {
  sets: ReadonlyArray<{ key: string; cap: number }>;
  /** How long an untouched set lives. */
  ttlSeconds: number;
}

/** A key SET (with a TTL) in the lease's own script: every time, or only when a number was given. */
export interface LeaseWrite {
  key: string;
  value: string;
  ttlSeconds: number;
  onlyLeased?: boolean;
}

/** What rides along with a lease in its single Redis call. */
export interface LeaseOptions {
  guard?: LeaseGuard | undefined;
  writes?: readonly LeaseWrite[];
}

export interface LeaseResult {
  status: LeaseStatus;
  /** Set for new, renewed and shared. */
  numberId: string | null;
  number: string | null;
  shared: boolean;
  start: Date;
  expiresAt: Date;
  /** The page view (session) that opened the lease: the key of its history row. */
  leaseSessionId: string | null;
  /** Handed out while still cooling down after its previous holder (every free number was). */
  reusedInCooldown: boolean;
}

/** The lease a number is under right now, as Redis knows it (the history in Postgres may lag ~200 ms). */
export interface LiveLease {
  numberId: string;
  holder: string;
  leaseSessionId: string;
  /** The holder's page view that was active last. */
  latestSessionId: string;
  start: Date;
  expiresAt: Date;
  reusedInCooldown: boolean;
}

export interface LeaseService {
  /**
   * Renews the holder's live lease, or leases the pool number rested the longest. The holder is
   * the visitor (all their tabs share the number); without a visitor id it is the session itself.
   */
  acquire(pool: PoolLeaseConfig, sessionId: string, holder?: string, options?: LeaseOptions): Promise<LeaseResult>;
  /** Renews the holder's live lease (or leases again after it ran out); `unknown` when Redis never saw it. */
  keepAlive(pool: PoolLeaseConfig, sessionId: string, holder?: string, options?: Pick<LeaseOptions, 'guard'>): Promise<LeaseResult>;
  /** The exclusive lease the number is under now, from Redis; null when free or when the pool is not loaded. */
  live(poolId: string, numberId: string): Promise<LiveLease | null>;
  /** Sets the pool's cool-down in Redis (the learner measured a new one); no-op when the pool is not loaded. */
  setCooldown(pool: Pick<PoolLeaseConfig, 'id' | 'holdSeconds' | 'cooldownSeconds'>): Promise<void>;
  /** Loads the pool into Redis from Postgres when its keys are missing (no-op when present). */
  rebuild(pool: PoolLeaseConfig): Promise<void>;
  /** Drops the pool's Redis state (numbers changed); the next request rebuilds it. */
  invalidate(poolId: string): Promise<void>;
}

type TouchReply = [string, string?, string?, number?, number?, string?, number?, string?, string?];

/** The scripts as ioredis commands (defineCommand: EVALSHA with EVAL fallback, keys prefixed). */
interface LeaseCommands {
  /** numkeys, then the keys and arguments of LEASE_LUA. */
  dniLease(...args: Array<string | number>): Promise<TouchReply>;
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
    cool: number,
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
  if (!('dniLease' in client)) {
    client.defineCommand('dniLease', { lua: LEASE_LUA });
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
      db.query<{ number_id: string; session_id: string; holder: string; a: Date; b: Date; shared: boolean; reused: boolean }>(
        `SELECT l.number_id, l.session_id, COALESCE(l.visitor_id, l.session_id::text) AS holder, lower(l.during) AS a, upper(l.during) AS b, l.shared,
                l.reused_in_cooldown AS reused
           FROM number_leases l JOIN numbers n ON n.id = l.number_id AND n.pool_id = $1
          WHERE l.pool_id = $1 AND upper(l.during) > now()`,
        [pool.id],
      ),
    ]);
    const data = {
      numbers: nums.rows.map((n) => [n.id, n.number, n.idle ? n.idle.getTime() : 0]),
      leases: leases.rows.map((l) => [l.number_id, l.holder, l.a.getTime(), l.b.getTime(), l.shared ? 1 : 0, l.session_id, l.reused ? 1 : 0]),
    };
    // cjson turns an empty table into {}, which ipairs handles the same as [].
    await redis.dniRebuild(
      ...poolKeys(pool.id),
      pool.holdSeconds,
      pool.maxLeaseSeconds,
      pool.exhaustionPolicy,
      JSON.stringify(data),
      effectiveCooldownSeconds(pool),
    );
  }

  /** Keys and arguments of one LEASE_LUA call (layout in leases.lua.ts). */
  function leaseArgs(pool: PoolLeaseConfig, sessionId: string, holder: string, mode: 'acquire' | 'keepalive', options: LeaseOptions): Array<string | number> {
    const sets = options.guard?.sets ?? [];
    const writes = options.writes ?? [];
    const keys = [...poolKeys(pool.id), ...sets.map((s) => s.key), ...writes.map((w) => w.key)];
    const args: Array<string | number> = [holder, mode, sessionId, sets.length, options.guard?.ttlSeconds ?? 0, ...sets.map((s) => s.cap)];
    for (const w of writes) args.push(w.value, w.ttlSeconds, w.onlyLeased ? '1' : '0');
    return [keys.length, ...keys, ...args];
  }

  async function touch(
    pool: PoolLeaseConfig,
    sessionId: string,
    holder: string,
    mode: 'acquire' | 'keepalive',
    options: LeaseOptions = {},
  ): Promise<LeaseResult> {
    const args = leaseArgs(pool, sessionId, holder, mode, options);
    let reply = await redis.dniLease(...args);
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
      reply = await redis.dniLease(...args);
    }
    const [status, numberId, number, startMs, expMs, shared, prevExpMs, leaseSessionId, reused] = reply;
    const result: LeaseResult = {
      status: status as LeaseStatus,
      numberId: numberId || null,
      number: number || null,
      shared: shared === '1',
      start: new Date(Number(startMs ?? 0)),
      expiresAt: new Date(Number(expMs ?? 0)),
      leaseSessionId: leaseSessionId || null,
      reusedInCooldown: reused === '1',
    };
    if (result.numberId && (status === 'new' || status === 'shared')) {
      history.leaseStarted({
        numberId: result.numberId,
        poolId: pool.id,
        sessionId,
        visitorId: holder === sessionId ? null : holder,
        start: result.start,
        expiresAt: result.expiresAt,
        shared: result.shared,
        reusedInCooldown: result.reusedInCooldown,
      });
    } else if (result.numberId && status === 'renewed' && Number(expMs) > Number(prevExpMs)) {
      history.leaseExtended({ numberId: result.numberId, sessionId: result.leaseSessionId ?? sessionId, start: result.start }, result.expiresAt);
    }
    if (status === 'exhausted' || status === 'shared') {
      history.exhausted({ poolId: pool.id, sessionId, policy: pool.exhaustionPolicy, at: result.start, holdSeconds: pool.holdSeconds });
    }
    return result;
  }

  return {
    acquire: (pool, sessionId, holder = sessionId, options) => touch(pool, sessionId, holder, 'acquire', options),
    keepAlive: (pool, sessionId, holder = sessionId, options) => touch(pool, sessionId, holder, 'keepalive', options),
    async live(poolId, numberId) {
      const keys = poolKeys(poolId);
      const holder = await redis.hget(keys[3], numberId);
      if (!holder) return null;
      const entry = await redis.hget(keys[4], holder);
      const [id, start, exp, , shared, leaseSessionId, reused, latest] = entry?.split('|') ?? [];
      // The owner entry is reaped lazily: a lease past its expiry is no longer live.
      if (id !== numberId || shared !== '0' || !leaseSessionId || Number(exp) <= Date.now()) return null;
      return {
        numberId,
        holder,
        leaseSessionId,
        latestSessionId: latest || leaseSessionId,
        start: new Date(Number(start)),
        expiresAt: new Date(Number(exp)),
        reusedInCooldown: reused === '1',
      };
    },
    async setCooldown(pool) {
      const meta = poolKeys(pool.id)[0];
      // Only into a loaded pool: a rebuild reads the stored value itself.
      if (await redis.exists(meta)) await redis.hset(meta, 'cool', effectiveCooldownSeconds(pool));
    },
    rebuild,
    async invalidate(poolId) {
      await redis.del(...poolKeys(poolId));
    },
  };
}
