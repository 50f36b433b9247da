import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { LeaseService } from '../numbers/leases.service.js';
import { learnedCooldownSeconds } from './pools-sizing.js';
import { callDelays, poolsWithCalls, setPoolCooldown } from './pools-usage.repository.js';

/** Calls of this many days teach a pool's cool-down: long enough for a weekly rhythm. */
const LEARN_DAYS = 7;

export interface CooldownLearner {
  /** Measures the pool's call delays, stores the cool-down and hands it to the lease script; returns it (null: too few calls). */
  learn(pool: { id: string; holdSeconds: number }): Promise<number | null>;
  /** Learns every pool that had attributed calls lately. */
  learnAll(): Promise<void>;
  close(): void;
}

/**
 * Keeps each pool's cool-down (how long a released number rests before another visitor gets it)
 * at the p99 of its measured "call after last activity" delays, never shorter than the hold.
 * Runs every `intervalMs` (and on demand from the usage report).
 */
export function createCooldownLearner({
  db,
  leases,
  logger,
  intervalMs = 10 * 60_000,
}: {
  db: Db;
  leases: Pick<LeaseService, 'setCooldown'>;
  logger: Logger;
  intervalMs?: number;
}): CooldownLearner {
  async function learn(pool: { id: string; holdSeconds: number }): Promise<number | null> {
    const delays = await callDelays(db, pool.id, new Date(Date.now() - LEARN_DAYS * 86_400_000));
    const cooldownSeconds = learnedCooldownSeconds(delays, pool.holdSeconds);
    await setPoolCooldown(db, pool.id, cooldownSeconds);
    // Redis away: the stored value reaches the lease script with the next rebuild; a report must not hang on it.
    const handedOver = leases.setCooldown({ id: pool.id, holdSeconds: pool.holdSeconds, cooldownSeconds });
    await Promise.race([handedOver, new Promise((resolve) => setTimeout(resolve, 500).unref())]).catch((err: unknown) =>
      logger.warn({ err, type: 'pool_cooldown_redis_failed', poolId: pool.id }, 'cool-down not handed to the lease script'),
    );
    handedOver.catch(() => {});
    return cooldownSeconds;
  }
  async function learnAll(): Promise<void> {
    const pools = await poolsWithCalls(db, new Date(Date.now() - LEARN_DAYS * 86_400_000));
    for (const pool of pools) await learn({ id: pool.id, holdSeconds: pool.hold_seconds });
  }
  const timer = setInterval(() => {
    learnAll().catch((err: unknown) => logger.warn({ err, type: 'pool_cooldown_learn_failed' }, 'pool cool-downs not updated'));
  }, intervalMs);
  timer.unref();
  return { learn, learnAll, close: () => clearInterval(timer) };
}
