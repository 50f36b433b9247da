// Lease history survives a crash: what a process had queued for Postgres is journaled in Redis
// (append-only), and another process replays the journal of one that stopped without writing it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLeaseHistory } from '../../server/numbers/leases.history.js';
import { createLeaseJournal } from '../../server/numbers/leases.journal.js';
import { createRedis } from '../../server/redis/client.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { provisionPool } from './fixtures.js';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(() => h.close());

it('replays the lease starts, keep-alives and exhaustion events of a crashed process, once', async () => {
  const app = await h.buildApp();
  const pool = await provisionPool(h, app, { size: 1, holdSeconds: 60, domains: ['journal.example'] });
  const { rows } = await h.db.query<{ id: string }>('SELECT id FROM numbers WHERE number = $1', [pool.numbers[0]]);
  const numberId = rows[0]!.id;
  const sessionId = '11111111-2222-4333-8444-555555555555';
  const start = new Date(Date.now() - 10_000);

  // The "crashed" process: its batches never reach Postgres, and its heartbeat stops (alive for 1 s).
  const crashed = createLeaseHistory({
    db: h.db,
    logger: h.logger,
    intervalMs: 600_000,
    journal: createLeaseJournal({ redis: h.redis, logger: h.logger, aliveSeconds: 1, heartbeatMs: 600_000 }),
  });
  crashed.leaseStarted({
    numberId,
    poolId: pool.poolId,
    sessionId,
    visitorId: 'v-journal',
    start,
    expiresAt: new Date(start.getTime() + 60_000),
    shared: false,
  });
  crashed.leaseExtended({ numberId, sessionId, start }, new Date(start.getTime() + 120_000));
  crashed.exhausted({ poolId: pool.poolId, sessionId, policy: 'default_number', at: start, holdSeconds: 60 });
  await new Promise((r) => setTimeout(r, 1_300));
  const count = async (sql: string) => (await h.db.query<{ n: number }>(sql, [pool.poolId])).rows[0]!.n;
  expect(await count('SELECT count(*)::int AS n FROM number_leases WHERE pool_id = $1')).toBe(0);

  const survivor = createLeaseHistory({ db: h.db, logger: h.logger, journal: createLeaseJournal({ redis: h.redis, logger: h.logger }) });
  expect(await survivor.recover()).toBe(3);
  const lease = await h.db.query('SELECT session_id, visitor_id, upper(during) AS until FROM number_leases WHERE pool_id = $1', [pool.poolId]);
  expect(lease.rows).toEqual([{ session_id: sessionId, visitor_id: 'v-journal', until: new Date(start.getTime() + 120_000) }]);
  expect(await count('SELECT count(*)::int AS n FROM pool_exhaustion_events WHERE pool_id = $1')).toBe(1);
  expect(await survivor.recover()).toBe(0); // replayed once, then gone

  await survivor.close();
  await crashed.close(); // its late flush adds no second lease row (inserts are idempotent)
  expect(await count('SELECT count(*)::int AS n FROM number_leases WHERE pool_id = $1')).toBe(1);
});

it('registers a journal once Redis is there, and again after Redis lost the registration, so a crash is still replayed', async () => {
  const members = () => h.redis.smembers('lease-journals');
  const before = new Set(await members());
  // Not connected yet: the journal waits for the connection instead of failing its first registration.
  const late = createRedis(h.config.redis);
  const journal = createLeaseJournal({ redis: late, logger: h.logger, aliveSeconds: 5, heartbeatMs: 100 });
  void late.connect();
  await expect.poll(async () => (await members()).length, { timeout: 2_000 }).toBe(before.size + 1);
  const ours = (await members()).filter((id) => !before.has(id));
  // A Redis restarted without its data (or a flush) forgets the registry: the next heartbeats restore it.
  await h.redis.srem('lease-journals', ...ours);
  await expect.poll(async () => (await members()).filter((id) => !before.has(id)), { timeout: 2_000 }).toEqual(ours);
  journal.close();
  await expect.poll(async () => (await members()).length, { timeout: 2_000 }).toBe(before.size);
  late.disconnect();
});
