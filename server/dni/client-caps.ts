import net from 'node:net';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis/client.js';
import { ipv6Groups, unmapIpv4 } from '../shared/ip.js';
import { addCapRefusals } from './client-caps.repository.js';

/**
 * Caps on the leases one client may hold at once in a pool, so one script (even with a browser user
 * agent, rotating session ids) cannot drain a pool and blind attribution. A "client" is one IPv4
 * address or one IPv6 /64 (what a single host usually gets); its "network" is the IPv4 /24 or the
 * IPv6 /48. Over a cap the visitor sees the default number and the refusal is counted per pool.
 */
export interface ClientCapLimits {
  /** Concurrent leases per client address (IPv6: per /64); 0 turns the cap off. */
  perIp: number;
  /** Concurrent leases per IPv4 /24 (IPv6: per /48); 0 turns the cap off. */
  perSubnet: number;
}

export interface ClientCaps {
  /** Reserves a place for a new lease; false when the client or its network already holds its cap. */
  admit(poolId: string, ip: string, sessionId: string, holdSeconds: number, ttlSeconds: number): Promise<boolean>;
  /** The lease is held until `expiresAt` (handed out or renewed by keep-alive). */
  hold(poolId: string, ip: string, sessionId: string, expiresAt: Date, ttlSeconds: number): Promise<void>;
  /** No lease came of the reservation (pool exhausted, Redis trouble). */
  release(poolId: string, ip: string, sessionId: string): Promise<void>;
  close(): Promise<void>;
}

/** Client and network keys of an address; the pool id in braces keeps a pool's keys in one Redis Cluster slot. */
export function clientKeys(poolId: string, rawIp: string): [string, string] {
  const ip = unmapIpv4(rawIp);
  const prefix = `dni:{${poolId}}:cap:`;
  if (net.isIPv4(ip)) return [`${prefix}ip:${ip}`, `${prefix}net:${ip.split('.').slice(0, 3).join('.')}`];
  const groups = ipv6Groups(ip);
  if (!groups) return [`${prefix}ip:${ip}`, `${prefix}net:${ip}`];
  const hex = groups.map((g) => g.toString(16));
  return [`${prefix}ip:${hex.slice(0, 4).join(':')}::/64`, `${prefix}net:${hex.slice(0, 3).join(':')}::/48`];
}

// Sorted sets of session ids scored by lease expiry (ms): expired members are dropped before counting,
// so a client's count falls as its leases run out. Check and reservation in one step: parallel
// requests of one client cannot all pass the check.
const ADMIT_LUA = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local perIp, perNet = tonumber(ARGV[4]), tonumber(ARGV[5])
if perIp > 0 and redis.call('ZCARD', KEYS[1]) >= perIp then return 1 end
if perNet > 0 and redis.call('ZCARD', KEYS[2]) >= perNet then return 2 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 0`;

interface CapCommands {
  dniCapAdmit(ipKey: string, netKey: string, now: number, until: number, sessionId: string, perIp: number, perNet: number, ttl: number): Promise<number>;
}

/**
 * @example
 *   const caps = createClientCaps({ redis, db, logger, limits: { perIp: 5, perSubnet: 50 } });
 *   if (!(await caps.admit(pool.id, request.ip, sessionId, pool.holdSeconds, ttl))) showDefaultNumber();
 */
export function createClientCaps({
  redis: client,
  db,
  logger,
  limits,
  flushIntervalMs = 5_000,
}: {
  redis: Redis;
  db: Db;
  logger: Logger;
  limits: ClientCapLimits;
  flushIntervalMs?: number;
}): ClientCaps {
  if (!('dniCapAdmit' in client)) client.defineCommand('dniCapAdmit', { numberOfKeys: 2, lua: ADMIT_LUA });
  const redis = client as Redis & CapCommands;
  // Refusals counted in memory and added to Postgres in batches: a flood of refused requests is one upsert per pool.
  let pending = new Map<string, number>();

  async function flush(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    try {
      await addCapRefusals(db, hour, [...batch]);
    } catch (err) {
      logger.warn({ err, type: 'dni_cap_refusals_unsaved' }, 'lease cap refusals not saved; retrying');
      for (const [poolId, n] of batch) pending.set(poolId, (pending.get(poolId) ?? 0) + n);
    }
  }
  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  return {
    async admit(poolId, ip, sessionId, holdSeconds, ttlSeconds) {
      if ((limits.perIp === 0 && limits.perSubnet === 0) || !ip) return true;
      const now = Date.now();
      const refused = await redis.dniCapAdmit(...clientKeys(poolId, ip), now, now + holdSeconds * 1000, sessionId, limits.perIp, limits.perSubnet, ttlSeconds);
      if (refused === 0) return true;
      pending.set(poolId, (pending.get(poolId) ?? 0) + 1);
      return false;
    },
    async hold(poolId, ip, sessionId, expiresAt, ttlSeconds) {
      if ((limits.perIp === 0 && limits.perSubnet === 0) || !ip) return;
      const [ipKey, netKey] = clientKeys(poolId, ip);
      // Counted under the address that keeps it alive now: a lease revived by keep-alive after it ran out counts too.
      await redis
        .multi()
        .zadd(ipKey, expiresAt.getTime(), sessionId)
        .zadd(netKey, expiresAt.getTime(), sessionId)
        .expire(ipKey, ttlSeconds)
        .expire(netKey, ttlSeconds)
        .exec();
    },
    async release(poolId, ip, sessionId) {
      if ((limits.perIp === 0 && limits.perSubnet === 0) || !ip) return;
      const [ipKey, netKey] = clientKeys(poolId, ip);
      await redis.multi().zrem(ipKey, sessionId).zrem(netKey, sessionId).exec();
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
