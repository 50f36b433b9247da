import type { Config } from '../config.js';
import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { createLeaseHistory, type LeaseHistory } from '../numbers/leases.history.js';
import { createLeaseJournal } from '../numbers/leases.journal.js';
import { createLeaseService, type LeaseService } from '../numbers/leases.service.js';
import type { Redis } from '../redis/client.js';
import { createClientCaps } from './client-caps.js';
import { createVisitorSessionWriter } from './dni.repository.js';
import { createDniService, type DniService } from './dni.service.js';
import { createRecentSessions, type RecentSessions } from './recent-sessions.js';

/** The snippet's hot path and what it writes behind: one per process that serves `/v1/dni`. */
export interface DniStack {
  dni: DniService;
  leases: LeaseService;
  leaseHistory: LeaseHistory;
  recent: RecentSessions;
  close(): Promise<void>;
}

/**
 * Builds the DNI service with its leases, lease history (journaled in Redis), session
 * write-behind and client caps. Every process that answers snippet requests builds its own (the
 * server, a snippet worker): they share Postgres and Redis, nothing in memory.
 */
export function createDniStack(
  { config, logger, db, redis }: { config: Config; logger: Logger; db: Db; redis: Redis },
  options: { flushMs?: number; overrides?: { leaseHistory?: LeaseHistory; leases?: LeaseService; dni?: DniService } } = {},
): DniStack {
  const overrides = options.overrides ?? {};
  const flush = options.flushMs ? { intervalMs: options.flushMs } : {};
  // The snippet's own Redis connection with auto-pipelining: concurrent requests share one socket
  // write per event-loop turn (syscalls, not Redis, dominate at thousands of requests per second).
  const dniRedis = redis.duplicate({ enableAutoPipelining: true });
  dniRedis.on('error', () => {}); // reported by failing commands (default number shown), not as a crash
  dniRedis.connect().catch((err: unknown) => logger.warn({ err }, 'dni: redis not reachable at start; default numbers until it is'));
  const leaseHistory = overrides.leaseHistory ?? createLeaseHistory({ db, logger, journal: createLeaseJournal({ redis: dniRedis, logger }), ...flush });
  const leases = overrides.leases ?? createLeaseService({ db, redis: dniRedis, history: leaseHistory });
  const visitorSessions = createVisitorSessionWriter({ db, logger, ...flush });
  // Pool-drain protection: concurrent leases per client address and network.
  const caps = createClientCaps({
    db,
    logger,
    limits: { perIp: config.dni.maxLeasesPerIp, perSubnet: config.dni.maxLeasesPerSubnet },
    ...(options.flushMs ? { flushIntervalMs: options.flushMs } : {}),
  });
  const recent = createRecentSessions(dniRedis);
  const dni = overrides.dni ?? createDniService({ db, redis: dniRedis, leases, sessions: visitorSessions, recent, logger, caps });
  return {
    dni,
    leases,
    leaseHistory,
    recent,
    async close() {
      await dni.close();
      await leaseHistory.close();
      dniRedis.disconnect();
    },
  };
}
