/**
 * Issue 12: visitor-level leases, safe reuse (cool-down), live state at INVITE time, visit
 * chains and sizing from measured call delays — through the production app.
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyVisit } from '../../server/attribution/visit.js';
import { insertCallRecord } from '../../server/calls/calls.repository.js';
import { createRedis } from '../../server/redis/client.js';
import type { Services } from '../../server/services.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { callRecord, seed } from '../leads/lead-fixtures.js';
import { provisionPool } from './fixtures.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const ACCOUNT = '00000000-0000-0000-0000-000000000001';
let h: Harness;
let app: FastifyInstance;
let services: Services;

beforeAll(async () => {
  h = await createHarness({ DNI_RATE_LIMIT_PER_MINUTE: '100000' });
  services = h.services();
  app = await h.buildApp({ services });
});
afterAll(() => h.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Session {
  sessionId: string;
  number: string;
  tracking: boolean;
}
async function pageView(
  on: FastifyInstance,
  siteKey: string,
  visitor: string | null,
  url = 'https://shop.example/?utm_source=google&utm_medium=cpc',
  referrer?: string,
): Promise<Session> {
  const res = await on.inject({
    method: 'POST',
    url: '/v1/dni/sessions',
    headers: { origin: 'https://shop.example', 'user-agent': UA, 'content-type': 'text/plain', ...(visitor ? { cookie: `ct_vid=${visitor}` } : {}) },
    payload: JSON.stringify({ siteKey, url, ...(referrer ? { referrer } : {}) }),
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}
const attribute = async (on: FastifyInstance, number: string) => {
  const res = await on.inject({
    method: 'GET',
    url: `/v1/attribution?number=${encodeURIComponent(number)}&at=${new Date().toISOString()}`,
    headers: h.adminHeaders,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};
const vid = () => `v${crypto.randomBytes(8).toString('hex')}`;
/** The write-behind of sessions and lease history runs every 20 ms in tests. */
/** Lease history written (deterministic), and a moment for the visitor sessions' write-behind. */
const flushed = async () => {
  await services.leaseHistory.flush();
  await sleep(150);
};

describe('visitor-level leases', () => {
  it('two tabs of one visitor get the same number; each page view is its own session', async () => {
    const p = await provisionPool(h, app, { size: 3, holdSeconds: 30, domains: ['shop.example'] });
    const visitor = vid();
    const [tab1, tab2] = await Promise.all([pageView(app, p.siteKey, visitor), pageView(app, p.siteKey, visitor, 'https://shop.example/contacts')]);
    expect(tab1.tracking && tab2.tracking).toBe(true);
    expect(tab2.number).toBe(tab1.number);
    expect(tab2.sessionId).not.toBe(tab1.sessionId);
    const other = await pageView(app, p.siteKey, vid());
    expect(other.number).not.toBe(tab1.number);
    await flushed();
    const sessions = await h.db.query('SELECT count(*)::int AS n FROM dni_sessions WHERE visitor_id = $1', [visitor]);
    expect(sessions.rows[0].n).toBe(2);
    const leases = await h.db.query('SELECT count(*)::int AS n FROM number_leases WHERE visitor_id = $1', [visitor]);
    expect(leases.rows[0].n).toBe(1);
  });

  it('a returning visitor within the hold keeps the number (and the call goes to their latest page view, with the visit chain)', async () => {
    const p = await provisionPool(h, app, { size: 3, holdSeconds: 3, domains: ['shop.example'] });
    const visitor = vid();
    const first = await pageView(app, p.siteKey, visitor, 'https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=sofas');
    const inside = await pageView(app, p.siteKey, visitor, 'https://shop.example/catalog', 'https://shop.example/?utm_source=google');
    expect(inside.number).toBe(first.number);
    // Gone for less than the hold, no keep-alives; someone else arrives meanwhile.
    await sleep(1_500);
    const someoneElse = await pageView(app, p.siteKey, vid());
    expect(someoneElse.number).not.toBe(first.number);
    const back = await pageView(app, p.siteKey, visitor, 'https://shop.example/?utm_source=yandex&utm_medium=cpc');
    expect(back.number).toBe(first.number);
    await flushed();
    const snap = await attribute(app, first.number);
    expect(snap).toMatchObject({ confidence: 'exact', sessionId: back.sessionId, likelihood: 1, visit: { source: 'yandex' } });
    // First touch … last touch; the internal page view is no touch.
    expect(snap.visitChain.map((v: { source: string; campaign: string | null }) => [v.source, v.campaign])).toEqual([
      ['google', 'sofas'],
      ['yandex', null],
    ]);
  });
});

describe('safe reuse', () => {
  it('a number in cool-down is not leased while another is free; a forced reuse makes the next call ambiguous with both visitors', async () => {
    const p = await provisionPool(h, app, { size: 2, holdSeconds: 1, domains: ['shop.example'] });
    const a = await pageView(app, p.siteKey, vid());
    await sleep(1_300); // a's hold ran out: its number is free but cooling down (default 5 min before any call was measured)
    const b = await pageView(app, p.siteKey, vid());
    expect(b.number).not.toBe(a.number);
    // Every free number is cooling down now: the pool must reuse a's number, and says so.
    const c = await pageView(app, p.siteKey, vid());
    expect(c.number).toBe(a.number);
    await flushed();
    const rows = await h.db.query<{ session_id: string; reused_in_cooldown: boolean }>(
      'SELECT session_id, reused_in_cooldown FROM number_leases WHERE pool_id = $1 ORDER BY lower(during)',
      [p.poolId],
    );
    expect(rows.rows.map((r) => [r.session_id, r.reused_in_cooldown])).toEqual([
      [a.sessionId, false],
      [b.sessionId, false],
      [c.sessionId, true],
    ]);
    const snap = await attribute(app, c.number);
    expect(snap.confidence).toBe('ambiguous');
    expect(snap.sessionId).toBe(c.sessionId);
    expect(snap.candidates.map((x: { sessionId: string }) => x.sessionId)).toEqual([c.sessionId, a.sessionId]);
    expect(snap.likelihood).toBeLessThan(1);
    expect(snap.likelihood).toBe(snap.candidates[0].likelihood);
    // b's number was free and rested: its call is exact.
    expect((await attribute(app, b.number)).confidence).toBe('exact');
  });
});

describe('reuse in cool-down, later', () => {
  it('a reused lease is uncertain only while the earlier holder may still call late', async () => {
    const p = await provisionPool(h, app, { size: 1, holdSeconds: 60, domains: ['shop.example'] });
    const number = await h.db.query<{ id: string }>('SELECT id FROM numbers WHERE pool_id = $1', [p.poolId]);
    const ago = (s: number) => new Date(Date.now() - s * 1000);
    const [earlier, reused] = [crypto.randomUUID(), crypto.randomUUID()];
    const lease = (session: string, from: Date, to: Date, reusedInCooldown: boolean) =>
      h.db.query('INSERT INTO number_leases (number_id, pool_id, session_id, during, reused_in_cooldown) VALUES ($1, $2, $3, tstzrange($4, $5), $6)', [
        number.rows[0]!.id,
        p.poolId,
        session,
        from,
        to,
        reusedInCooldown,
      ]);
    await lease(earlier, ago(1000), ago(900), false);
    await lease(reused, ago(850), ago(-600), true); // handed out 50 s after release, still held
    const at = async (when: Date) =>
      (
        await app.inject({
          method: 'GET',
          url: `/v1/attribution?number=${encodeURIComponent(p.numbers[0]!)}&at=${when.toISOString()}`,
          headers: h.adminHeaders,
        })
      ).json();
    // 100 s after the earlier holder left (within the 5 min late-call window): both are candidates.
    const soon = await at(ago(800));
    expect(soon).toMatchObject({ confidence: 'ambiguous', sessionId: reused });
    expect(soon.candidates.map((c: { sessionId: string }) => c.sessionId)).toEqual([reused, earlier]);
    // 15 min later nobody expects the earlier holder to call: the lease is certain again.
    expect(await at(new Date())).toMatchObject({ confidence: 'exact', sessionId: reused, likelihood: 1 });
  });
});

describe('live state at INVITE time', () => {
  let lagging: Services;
  let laggingApp: FastifyInstance;
  beforeAll(async () => {
    // Postgres far behind: the write-behind flushes only every minute.
    lagging = h.services({ dniFlushMs: 60_000 });
    laggingApp = await h.buildApp({ services: lagging });
  });

  it('a call 50 ms after the lease is exact, and the answer is the same whichever store is behind', async () => {
    const p = await provisionPool(h, app, { size: 2, holdSeconds: 30, domains: ['shop.example'] });
    const s = await pageView(laggingApp, p.siteKey, vid());
    await sleep(50);
    const live = await attribute(laggingApp, s.number);
    expect(live).toMatchObject({ confidence: 'exact', sessionId: s.sessionId, likelihood: 1, visit: { source: 'google', medium: 'cpc' } });
    expect(live.visitChain).toHaveLength(1);
    const stored = await h.db.query('SELECT count(*)::int AS n FROM number_leases WHERE pool_id = $1', [p.poolId]);
    expect(stored.rows[0].n).toBe(0); // the answer came from Redis
    // Now Redis is the one behind (lost the pool), Postgres has it all.
    await lagging.leaseHistory.flush();
    await lagging.dni.close();
    await lagging.leases.invalidate(p.poolId);
    const fromHistory = await attribute(laggingApp, s.number);
    expect(fromHistory).toMatchObject({ confidence: 'exact', sessionId: s.sessionId, likelihood: 1 });
    expect(fromHistory.visit).toEqual(live.visit);
    expect(fromHistory.visitChain).toEqual(live.visitChain);
    // Redis down altogether: Postgres alone answers the same.
    const dead = createRedis({ url: 'redis://127.0.0.1:1', prefix: 'dead:' });
    const down = await h.buildApp({ stores: { redis: dead } });
    expect(await attribute(down, s.number)).toMatchObject({ confidence: 'exact', sessionId: s.sessionId, visitChain: live.visitChain });
    dead.disconnect();
  });
});

describe('call record', () => {
  it('stores the visit chain and the likelihood, and the call API returns them', async () => {
    const s = await seed(h.db);
    const chain = [
      { ...emptyVisit(), source: 'google', medium: 'cpc' },
      { ...emptyVisit(), source: 'yandex', medium: 'cpc' },
    ];
    const record = callRecord(s, {
      sourceId: null,
      visit: chain[1]!,
      visitChain: chain,
      attribution: { reason: 'test', candidates: [], likelihood: 0.8, overflow: false, previousCallId: null },
    });
    expect(await insertCallRecord(h.db, record)).toBe(true);
    const res = await app.inject({ method: 'GET', url: `/v1/calls/${record.id}`, headers: h.adminHeaders });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().attribution.likelihood).toBe(0.8);
    expect(res.json().attribution.visitChain.map((v: { source: string }) => v.source)).toEqual(['google', 'yandex']);
  });
});

describe('sizing from measured call delays', () => {
  it('usage reports the delay distribution, the learned cool-down, the accuracy at the current size and the size for 99.5 %', async () => {
    const hold = 60;
    const q = await provisionPool(h, app, { size: 2, holdSeconds: hold, domains: ['shop.example'] });
    const nums = await h.db.query<{ id: string; number: string }>('SELECT id, number FROM numbers WHERE pool_id = $1 ORDER BY number', [q.poolId]);
    const trunk = await h.db.query<{ id: string }>('SELECT trunk_id AS id FROM numbers WHERE pool_id = $1 LIMIT 1', [q.poolId]);
    const base = Date.now() - 3_000_000;
    // 25 visitors, one every 100 s, each active 60 s then held for the hold; visitor i calls 10·i s after leaving.
    for (let i = 0; i < 25; i++) {
      const start = base + i * 100_000;
      const lastActive = start + 60_000;
      const session = crypto.randomUUID();
      const number = nums.rows[i % 2]!;
      await h.db.query(`INSERT INTO number_leases (number_id, pool_id, session_id, visitor_id, during) VALUES ($1, $2, $3, $4, tstzrange($5, $6))`, [
        number.id,
        q.poolId,
        session,
        `visitor-${i}`,
        new Date(start),
        new Date(lastActive + hold * 1000),
      ]);
      await h.db.query(
        `INSERT INTO calls (account_id, sip_call_id, trunk_id, number_id, tracking_number, caller, started_at, session_id, pool_id, confidence)
         VALUES ($1, $2, $3, $4, $5, '+79160000000', $6, $7, $8, 'exact')`,
        [ACCOUNT, `delay-${crypto.randomUUID()}`, trunk.rows[0]!.id, number.id, number.number, new Date(lastActive + i * 10_000), session, q.poolId],
      );
    }
    const res = await app.inject({ method: 'GET', url: `/v1/pools/${q.poolId}/usage?windowHours=1`, headers: await h.headersFor('viewer') });
    expect(res.statusCode, res.body).toBe(200);
    const u = res.json();
    expect(u.callDelays).toMatchObject({ calls: 25, p50Seconds: 120, p90Seconds: 220, p99Seconds: 240, maxSeconds: 240 });
    expect(u.callDelays.histogram.reduce((sum: number, b: { calls: number }) => sum + b.calls, 0)).toBe(25);
    // Edges are multiples of the hold: 15, 30, 60, 120, 240, 480 s, then longer.
    expect(u.callDelays.histogram.map((b: { calls: number }) => b.calls)).toEqual([2, 2, 3, 6, 12, 0, 0]);
    expect(u).toMatchObject({ cooldownSeconds: 240, cooldownLearned: true, visitors: 25 });
    // Numbers must stay unused 240 s after each visitor's last activity: with one visitor every 100 s that is 3 at once,
    // plus 2·√3 for the next day's peak.
    expect(u.sizeForTargetAccuracy).toBe(7);
    // Two numbers keep each one away from others for at most 140 s after its visitor's last activity: the calls within 140 s (15 of 25).
    expect(u.expectedAccuracy).toBe(0.6);
    expect(u.recommendedSize).toBe(7);
    expect(u.ruleOfThumbSize).toBe(30); // 25 visitors an hour → 600 a day → 30 numbers
    expect(u.warning).toMatch(/expected accuracy 60\.0 % is below 99\.5 %/);
    const stored = await h.db.query('SELECT cooldown_seconds FROM pools WHERE id = $1', [q.poolId]);
    expect(stored.rows[0].cooldown_seconds).toBe(240);
  });

  it('measures the precision of exact from repeat callers whose visitor id matches (or not)', async () => {
    const q = await provisionPool(h, app, { size: 2, holdSeconds: 60, domains: ['shop.example'] });
    const nums = await h.db.query<{ id: string; number: string; trunk_id: string }>('SELECT id, number, trunk_id FROM numbers WHERE pool_id = $1', [q.poolId]);
    const n = nums.rows[0]!;
    const callFrom = (caller: string, visitorId: string, minutesAgo: number, confidence = 'exact') =>
      h.db.query(
        `INSERT INTO calls (account_id, sip_call_id, trunk_id, number_id, tracking_number, caller, started_at, session_id, pool_id, confidence, visit)
         VALUES ($1, $2, $3, $4, $5, $6, now() - make_interval(mins => $7), gen_random_uuid(), $8, $9, $10)`,
        [ACCOUNT, `truth-${crypto.randomUUID()}`, n.trunk_id, n.id, n.number, caller, minutesAgo, q.poolId, confidence, { visitorId }],
      );
    const same = `+7916${crypto.randomInt(1e6, 9e6)}`;
    const other = `+7916${crypto.randomInt(1e6, 9e6)}`;
    await callFrom(same, 'visitor-a', 30);
    await callFrom(same, 'visitor-a', 10, 'ambiguous'); // the caller came back through the same visitor: confirms the first
    await callFrom(other, 'visitor-b', 30);
    await callFrom(other, 'visitor-c', 10, 'ambiguous'); // another visitor: the first `exact` is contradicted
    await callFrom(`+7916${crypto.randomInt(1e6, 9e6)}`, 'visitor-d', 20); // no second call: nothing learned
    const res = await app.inject({ method: 'GET', url: `/v1/pools/${q.poolId}/usage?windowHours=1`, headers: h.adminHeaders });
    expect(res.json().exactPrecision).toEqual({ checked: 2, confirmed: 1, precision: 0.5 });
  });
});
