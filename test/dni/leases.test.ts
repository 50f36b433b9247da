import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_EXCLUSION_VIOLATION, pgErrorCode } from '../../server/errors.js';
import { createLeaseHistory, type LeaseHistory } from '../../server/numbers/leases.history.js';
import { createLeaseService, type LeaseService, poolKeys, type PoolLeaseConfig } from '../../server/numbers/leases.service.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { provisionPool } from './fixtures.js';

let h: Harness;
let app: FastifyInstance;
let history: LeaseHistory;
let leases: LeaseService;

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  history = createLeaseHistory({ db: h.db, logger: h.logger, intervalMs: 50 });
  leases = createLeaseService({ db: h.db, redis: h.redis, history });
});
afterAll(async () => {
  await history.close();
  await h.close();
});

const sid = () => crypto.randomUUID();
const poolCfg = (
  poolId: string,
  holdSeconds: number,
  exhaustionPolicy: PoolLeaseConfig['exhaustionPolicy'] = 'default_number',
  maxLeaseSeconds = 3600,
): PoolLeaseConfig => ({ id: poolId, holdSeconds, maxLeaseSeconds, exhaustionPolicy });

async function waitUntil(t: Date): Promise<void> {
  const ms = t.getTime() - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms + 20));
}

describe('lease Lua script', () => {
  it('10k parallel requests on a 20-number pool: each number leased to exactly one session', async () => {
    const p = await provisionPool(h, app, { size: 20, holdSeconds: 60 });
    const pool = poolCfg(p.poolId, 60);
    const results = await Promise.all(
      Array.from({ length: 10_000 }, () => {
        const s = sid();
        return leases.acquire(pool, s).then((r) => ({ s, r }));
      }),
    );
    const won = results.filter((x) => x.r.status === 'new');
    expect(won).toHaveLength(20);
    expect(new Set(won.map((x) => x.r.number)).size).toBe(20);
    expect(won.every((x) => p.numbers.includes(x.r.number!))).toBe(true);
    expect(results.filter((x) => x.r.status === 'exhausted')).toHaveLength(9_980);
    expect(Number(await h.redis.hget(poolKeys(p.poolId)[0], 'exhausted'))).toBe(9_980);
    await history.flush();
    const rows = await h.db.query('SELECT count(*)::int AS n FROM number_leases WHERE pool_id = $1', [p.poolId]);
    expect(rows.rows[0].n).toBe(20);
    const ev = await h.db.query('SELECT count(*)::int AS n FROM pool_exhaustion_events WHERE pool_id = $1', [p.poolId]);
    expect(ev.rows[0].n).toBe(9_980);
  });

  it('under churn (1 s hold, waves of parallel requests) no number is ever held by two sessions at once', async () => {
    const p = await provisionPool(h, app, { size: 5, holdSeconds: 1 });
    const pool = poolCfg(p.poolId, 1);
    let granted = 0;
    const deadline = Date.now() + 3_500;
    while (Date.now() < deadline) {
      const wave = await Promise.all(Array.from({ length: 2_000 }, () => leases.acquire(pool, sid())));
      granted += wave.filter((r) => r.status === 'new').length;
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(granted).toBeGreaterThan(5);
    await history.flush();
    // Every grant reached Postgres: had two grants overlapped, the exclusion constraint would have dropped one.
    const rows = await h.db.query('SELECT count(*)::int AS n FROM number_leases WHERE pool_id = $1 AND NOT shared', [p.poolId]);
    expect(rows.rows[0].n).toBe(granted);
    const overlaps = await h.db.query(
      `SELECT count(*)::int AS n FROM number_leases a JOIN number_leases b ON a.number_id = b.number_id AND a.id < b.id AND a.during && b.during WHERE a.pool_id = $1`,
      [p.poolId],
    );
    expect(overlaps.rows[0].n).toBe(0);
  });

  it('hands out the number idle the longest (LRU from history after a rebuild)', async () => {
    const p = await provisionPool(h, app, { size: 3, holdSeconds: 60 });
    const ids = await h.db.query<{ id: string; number: string }>('SELECT id, number FROM numbers WHERE pool_id = $1 ORDER BY number', [p.poolId]);
    // Idle since: number[0] 1 minute ago, number[1] 3 hours ago, number[2] never leased → order 2, 1, 0.
    const ago = (m: number) => new Date(Date.now() - m * 60_000);
    await h.db.query(
      `INSERT INTO number_leases (number_id, pool_id, session_id, during) VALUES ($1, $3, gen_random_uuid(), tstzrange($4, $5)), ($2, $3, gen_random_uuid(), tstzrange($6, $7))`,
      [ids.rows[0]!.id, ids.rows[1]!.id, p.poolId, ago(10), ago(1), ago(200), ago(180)],
    );
    await leases.invalidate(p.poolId);
    const pool = poolCfg(p.poolId, 60);
    const order = [];
    for (let i = 0; i < 3; i++) order.push((await leases.acquire(pool, sid())).number);
    expect(order).toEqual([ids.rows[2]!.number, ids.rows[1]!.number, ids.rows[0]!.number]);
  });

  it('keep-alive holds the number for holdSeconds after the last keep-alive, then it returns to the pool', async () => {
    const p = await provisionPool(h, app, { size: 1, holdSeconds: 1 });
    const pool = poolCfg(p.poolId, 1);
    const s1 = sid();
    const first = await leases.acquire(pool, s1);
    expect(first.status).toBe('new');
    expect(first.expiresAt.getTime() - first.start.getTime()).toBe(1_000);
    await new Promise((r) => setTimeout(r, 600));
    const kept = await leases.keepAlive(pool, s1);
    expect(kept).toMatchObject({ status: 'renewed', number: first.number });
    expect(kept.expiresAt.getTime()).toBeGreaterThan(first.expiresAt.getTime() + 400);
    // Still held past the first expiry because of the keep-alive.
    await waitUntil(first.expiresAt);
    expect((await leases.acquire(pool, sid())).status).toBe('exhausted');
    await waitUntil(kept.expiresAt);
    const next = await leases.acquire(pool, sid());
    expect(next).toMatchObject({ status: 'new', number: first.number });
    await history.flush();
    const rows = await h.db.query<{ a: Date; b: Date }>('SELECT lower(during) AS a, upper(during) AS b FROM number_leases WHERE session_id = $1', [s1]);
    expect(rows.rows[0]!.b.getTime()).toBe(kept.expiresAt.getTime());
  });

  it('keep-alive of an unknown session says unknown; after the hold it leases again', async () => {
    const p = await provisionPool(h, app, { size: 2, holdSeconds: 1 });
    const pool = poolCfg(p.poolId, 1);
    expect((await leases.keepAlive(pool, sid())).status).toBe('unknown');
    const s = sid();
    const a = await leases.acquire(pool, s);
    await waitUntil(a.expiresAt);
    const again = await leases.keepAlive(pool, s);
    expect(again.status).toBe('new');
    expect(again.start.getTime()).toBeGreaterThanOrEqual(a.expiresAt.getTime());
  });

  it('share policy: an exhausted pool shares the least recently active number and marks the lease shared', async () => {
    const p = await provisionPool(h, app, { size: 2, holdSeconds: 60, exhaustionPolicy: 'share' });
    const pool = poolCfg(p.poolId, 60, 'share');
    const a = await leases.acquire(pool, sid());
    await new Promise((r) => setTimeout(r, 20));
    const b = await leases.acquire(pool, sid());
    const s3 = sid();
    const c = await leases.acquire(pool, s3);
    expect(c).toMatchObject({ status: 'shared', shared: true, number: a.number });
    expect(b.number).not.toBe(a.number);
    await history.flush();
    const row = await h.db.query('SELECT shared FROM number_leases WHERE session_id = $1', [s3]);
    expect(row.rows[0].shared).toBe(true);
    const ev = await h.db.query('SELECT policy FROM pool_exhaustion_events WHERE pool_id = $1', [p.poolId]);
    expect(ev.rows).toEqual([{ policy: 'share' }]);
  });

  it('hard maximum: keep-alives never extend past maxLeaseSeconds, and the session gets no new lease after it', async () => {
    const p = await provisionPool(h, app, { size: 2, holdSeconds: 60 });
    const pool = poolCfg(p.poolId, 60, 'default_number', 1);
    await leases.invalidate(p.poolId);
    const s = sid();
    const a = await leases.acquire(pool, s);
    expect(a.expiresAt.getTime() - a.start.getTime()).toBe(1_000);
    const k = await leases.keepAlive(pool, s);
    expect(k.expiresAt.getTime()).toBe(a.expiresAt.getTime());
    await waitUntil(a.expiresAt);
    expect((await leases.keepAlive(pool, s)).status).toBe('max');
  });

  it('rebuilds a lost pool from Postgres with live leases kept', async () => {
    const p = await provisionPool(h, app, { size: 2, holdSeconds: 60 });
    const pool = poolCfg(p.poolId, 60);
    const s = sid();
    const a = await leases.acquire(pool, s);
    await history.flush();
    await leases.invalidate(p.poolId);
    const other = await leases.acquire(pool, sid());
    expect(other.status).toBe('new');
    expect(other.number).not.toBe(a.number);
    const kept = await leases.keepAlive(pool, s);
    expect(kept).toMatchObject({ status: 'renewed', number: a.number });
  });
});

describe('lease history write-behind', () => {
  it('keeps rows through a Postgres failure and writes them on retry', async () => {
    const p = await provisionPool(h, app, { size: 1, holdSeconds: 60 });
    let failures = 2;
    const flaky = {
      query: (...args: unknown[]) =>
        failures-- > 0 ? Promise.reject(new Error('connection terminated')) : (h.db.query as (...a: unknown[]) => unknown)(...args),
    } as unknown as typeof h.db;
    const hist = createLeaseHistory({ db: flaky, logger: h.logger, intervalMs: 10 });
    const n = (await h.db.query<{ id: string }>('SELECT id FROM numbers WHERE pool_id = $1', [p.poolId])).rows[0]!.id;
    const s = sid();
    const start = new Date();
    hist.leaseStarted({ numberId: n, poolId: p.poolId, sessionId: s, start, expiresAt: new Date(start.getTime() + 60_000), shared: false });
    await hist.flush();
    hist.leaseExtended({ numberId: n, sessionId: s, start }, new Date(start.getTime() + 90_000));
    expect(hist.pending()).toBeGreaterThan(0);
    const deadline = Date.now() + 5_000;
    let rows: Array<{ b: Date }> = [];
    while (Date.now() < deadline) {
      rows = (await h.db.query<{ b: Date }>('SELECT upper(during) AS b FROM number_leases WHERE session_id = $1', [s])).rows;
      if (rows.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows.map((r) => r.b.getTime())).toEqual([start.getTime() + 90_000]);
    await hist.close();
  });
});

describe('number_leases exclusion constraint', () => {
  it('rejects overlapping exclusive leases of one number and allows shared ones', async () => {
    const p = await provisionPool(h, app, { size: 1, holdSeconds: 60 });
    const n = (await h.db.query<{ id: string }>('SELECT id FROM numbers WHERE pool_id = $1', [p.poolId])).rows[0]!.id;
    const ins = (a: string, b: string, shared = false) =>
      h.db.query('INSERT INTO number_leases (number_id, pool_id, session_id, during, shared) VALUES ($1, $2, gen_random_uuid(), tstzrange($3, $4), $5)', [
        n,
        p.poolId,
        a,
        b,
        shared,
      ]);
    await ins('2026-01-01T10:00:00Z', '2026-01-01T10:30:00Z');
    const err = await ins('2026-01-01T10:29:00Z', '2026-01-01T11:00:00Z').catch((e: unknown) => e);
    expect(pgErrorCode(err)).toBe(PG_EXCLUSION_VIOLATION);
    // Adjacent half-open ranges do not overlap: a number may be re-leased at the instant the last lease ended.
    await ins('2026-01-01T10:30:00Z', '2026-01-01T11:00:00Z');
    await ins('2026-01-01T10:10:00Z', '2026-01-01T10:40:00Z', true);
  });
});
