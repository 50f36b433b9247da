import net from 'node:net';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { LeaseGuard } from '../numbers/leases.service.js';
import { ipv6Groups, isLoopback, unmapIpv4 } from '../shared/ip.js';
import { addCapRefusals } from './client-caps.repository.js';

/**
 * Caps on the leases one client may hold at once in a pool, so one script (even with a browser user
 * agent, rotating session ids) cannot drain a pool and blind attribution. A "client" is one IPv4
 * address or one IPv6 /64 (what a single host usually gets); its "network" is the IPv4 /24 or the
 * IPv6 /48. Over a cap the visitor sees the default number and the refusal is counted per pool.
 * Loopback clients are not capped (see `guard`).
 */
export interface ClientCapLimits {
  /** Concurrent leases per client address (IPv6: per /64); 0 turns the cap off. */
  perIp: number;
  /** Concurrent leases per IPv4 /24 (IPv6: per /48); 0 turns the cap off. */
  perSubnet: number;
}

export interface ClientCaps {
  /**
   * The client's and its network's lease sets, for the lease script to check and join (one Redis
   * call per page view); undefined when the caps are off. A lease renewed by keep-alive counts
   * under the address that keeps it alive now.
   */
  guard(poolId: string, ip: string, ttlSeconds: number): LeaseGuard | undefined;
  /** The lease script refused a client over its cap: counted for the pool's usage page. */
  refused(poolId: string): void;
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

/**
 * @example
 *   const caps = createClientCaps({ db, logger, limits: { perIp: 5, perSubnet: 50 } });
 *   const r = await leases.acquire(pool, sessionId, visitorId, { guard: caps.guard(pool.id, request.ip, ttl) });
 *   if (r.status === 'capped') caps.refused(pool.id); // and show the default number
 */
export function createClientCaps({
  db,
  logger,
  limits,
  flushIntervalMs = 5_000,
}: {
  db: Db;
  logger: Logger;
  limits: ClientCapLimits;
  flushIntervalMs?: number;
}): ClientCaps {
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
    guard(poolId, ip, ttlSeconds) {
      if ((limits.perIp === 0 && limits.perSubnet === 0) || !ip) return undefined;
      // A loopback client is this host: a reverse proxy that does not say who its visitors are (all
      // of them share its address) or a local test. Capping it would starve every visitor behind it.
      if (isLoopback(ip)) return undefined;
      const [ipKey, netKey] = clientKeys(poolId, ip);
      const sets = [];
      if (limits.perIp > 0) sets.push({ key: ipKey, cap: limits.perIp });
      if (limits.perSubnet > 0) sets.push({ key: netKey, cap: limits.perSubnet });
      return { sets, ttlSeconds };
    },
    refused(poolId) {
      pending.set(poolId, (pending.get(poolId) ?? 0) + 1);
    },
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}
