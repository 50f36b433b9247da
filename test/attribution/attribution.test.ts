import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttributor } from '../../server/attribution/attribution.service.js';
import { PRIOR_CALLS_COUNTED } from '../../server/attribution/attribution.repository.js';
import { releaseExpiredSources } from '../../server/sources/sources-quarantine.repository.js';
import { provisionPool, numberBlock, type Provisioned } from '../dni/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const ACCOUNT = '00000000-0000-0000-0000-000000000001';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
let h: Harness;
let app: FastifyInstance;
let p: Provisioned;
const attributor = () => createAttributor({ db: h.db });

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  p = await provisionPool(h, app, { size: 4, holdSeconds: 60, domains: ['shop.example'] });
});
afterAll(() => h.close());

const numberId = async (n: string) => (await h.db.query<{ id: string }>('SELECT id FROM numbers WHERE number = $1', [n])).rows[0]!.id;
const ago = (s: number) => new Date(Date.now() - s * 1000);

/** A visit and its lease written straight into the history, for instants we choose. */
async function pastLease(number: string, from: Date, to: Date, opts: { shared?: boolean; utm?: string } = {}): Promise<string> {
  const sid = crypto.randomUUID();
  await h.db.query(
    `INSERT INTO dni_sessions (id, account_id, site_id, pool_id, visitor_id, url, landing_page, utm_source, created_at)
    VALUES ($1, $2, $3, $4, 'v-test-visitor', 'https://shop.example/', 'https://shop.example/', $5, $6)`,
    [sid, ACCOUNT, p.siteId, p.poolId, opts.utm ?? null, from],
  );
  await h.db.query('INSERT INTO number_leases (number_id, pool_id, session_id, during, shared) VALUES ($1, $2, $3, tstzrange($4, $5), $6)', [
    await numberId(number),
    p.poolId,
    sid,
    from,
    to,
    opts.shared ?? false,
  ]);
  return sid;
}

const get = (query: string) => app.inject({ method: 'GET', url: `/v1/attribution?${query}`, headers: h.adminHeaders });

describe('attribution outcomes', () => {
  it('exact: the session whose lease covers the instant, with its visit (through the real snippet API)', async () => {
    // Its own pool: the other tests write history rows for p's numbers at chosen instants.
    const live = await provisionPool(h, app, { size: 2, holdSeconds: 60, domains: ['shop.example'] });
    const s = await app.inject({
      method: 'POST',
      url: '/v1/dni/sessions',
      headers: { origin: 'https://shop.example', 'user-agent': UA, 'content-type': 'application/json' },
      payload: {
        siteKey: live.siteKey,
        url: 'https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=may&yclid=42',
        referrer: 'https://mail.example/',
        gaClientId: '1.2',
      },
    });
    const body = s.json();
    expect(body.tracking).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    const viewer = await h.headersFor('viewer');
    const res = await app.inject({
      method: 'GET',
      url: `/v1/attribution?number=${encodeURIComponent(body.number)}&at=${new Date().toISOString()}`,
      headers: viewer,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      sessionId: body.sessionId,
      sourceId: null,
      confidence: 'exact',
      visit: {
        source: 'newsletter',
        medium: 'email',
        campaign: 'may',
        utmSource: 'newsletter',
        yclid: '42',
        gaClientId: '1.2',
        referrer: 'https://mail.example/',
      },
      overflow: false,
      candidates: [{ sessionId: body.sessionId, likelihood: 1 }],
    });
    // Without `at` (and with the number's "+" unencoded): a call ringing now.
    const now = await app.inject({ method: 'GET', url: `/v1/attribution?number=${body.number}`, headers: viewer });
    expect(now.statusCode, now.body).toBe(200);
    expect(now.json()).toMatchObject({ sessionId: body.sessionId, confidence: 'exact' });
  });

  it('ambiguous: a shared number, candidates ranked by last activity', async () => {
    const n = p.numbers[1]!;
    const older = await pastLease(n, ago(600), ago(-30)); // last active 90 s ago (hold 60)
    const newer = await pastLease(n, ago(100), ago(-55), { shared: true }); // last active 5 s ago
    const snap = await attributor().attribute({ accountId: ACCOUNT, number: n, at: new Date() });
    expect(snap.confidence).toBe('ambiguous');
    expect(snap.sessionId).toBe(newer);
    expect(snap.candidates.map((c) => c.sessionId)).toEqual([newer, older]);
    expect(snap.candidates[0]!.likelihood).toBeGreaterThan(snap.candidates[1]!.likelihood);
    expect(snap.reason).toMatch(/shared/);
    expect(snap.overflow).toBe(true);
  });

  it('ambiguous: a call shortly after the hold ran out goes to the late visitor, from history', async () => {
    const n = p.numbers[2]!;
    const sid = await pastLease(n, ago(900), ago(120), { utm: 'late-ads' });
    const snap = await attributor().attribute({ accountId: ACCOUNT, number: n, at: new Date() });
    expect(snap).toMatchObject({ confidence: 'ambiguous', sessionId: sid, visit: { utmSource: 'late-ads' } });
    expect(snap.candidates[0]!.reason).toMatch(/hold ended 12\d s before the call/);
  });

  it('none: nothing near the instant, or an unknown number', async () => {
    const n = p.numbers[3]!;
    await pastLease(n, ago(4 * 3600), ago(3 * 3600));
    expect(await attributor().attribute({ accountId: ACCOUNT, number: n, at: new Date() })).toMatchObject({
      confidence: 'none',
      sessionId: null,
      candidates: [],
    });
    const res = await get(`number=${encodeURIComponent('+74959999999')}&at=${new Date().toISOString()}`);
    expect(res.json()).toMatchObject({ confidence: 'none', reason: expect.stringMatching(/not provisioned/) });
    // The same history answers for the past: 3.5 h ago that lease covered the instant.
    expect((await attributor().attribute({ accountId: ACCOUNT, number: n, at: ago(3.5 * 3600) })).confidence).toBe('exact');
  });

  it('static: a source number within its dates; none outside them', async () => {
    const [flyer, radio] = numberBlock(2);
    for (const n of [flyer, radio]) {
      expect((await app.inject({ method: 'POST', url: '/v1/numbers', headers: h.adminHeaders, payload: { number: n, trunkId: p.trunkId } })).statusCode).toBe(
        201,
      );
    }
    const today = new Date().toISOString().slice(0, 10);
    const src = (
      await app.inject({
        method: 'POST',
        url: '/v1/sources',
        headers: h.adminHeaders,
        payload: { name: 'Metro flyer', kind: 'offline', channel: 'flyer', campaign: 'spring', startsOn: '2020-01-01', endsOn: '2099-12-31', numbers: [flyer] },
      })
    ).json();
    const future = (
      await app.inject({
        method: 'POST',
        url: '/v1/sources',
        headers: h.adminHeaders,
        payload: { name: 'Radio', kind: 'offline', channel: 'radio', startsOn: '2099-01-01', numbers: [radio] },
      })
    ).json();
    const snap = await attributor().attribute({ accountId: ACCOUNT, number: flyer!, at: new Date() });
    expect(snap).toMatchObject({
      confidence: 'static',
      sourceId: src.id,
      sessionId: null,
      visit: null,
      staticSource: { id: src.id, name: 'Metro flyer', channel: 'flyer', medium: null, campaign: 'spring' },
    });
    const before = await attributor().attribute({ accountId: ACCOUNT, number: radio!, at: new Date() });
    expect(before).toMatchObject({ confidence: 'none', sourceId: null });
    expect(before.reason).toContain(`not active on ${today}`);
    expect(future.id).toBeTruthy();
  });

  it('static after release: quarantine keeps late callers on the source and the number out of pools; QR of the tel: link', async () => {
    const [n] = numberBlock(1);
    await app.inject({ method: 'POST', url: '/v1/numbers', headers: h.adminHeaders, payload: { number: n, trunkId: p.trunkId } });
    const src = (
      await app.inject({
        method: 'POST',
        url: '/v1/sources',
        headers: h.adminHeaders,
        payload: { name: 'Billboard', kind: 'offline', channel: 'billboard', numbers: [n] },
      })
    ).json();

    const qr = await app.inject({ method: 'GET', url: `/v1/sources/${src.id}/qr.svg`, headers: await h.headersFor('viewer') });
    expect(qr.statusCode).toBe(200);
    expect(qr.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(qr.body).toMatch(/^<svg[^>]*viewBox/);
    expect(
      (await app.inject({ method: 'GET', url: `/v1/sources/${src.id}/qr.svg?number=${encodeURIComponent(p.numbers[0]!)}`, headers: h.adminHeaders }))
        .statusCode,
    ).toBe(400);

    const rel = await app.inject({
      method: 'POST',
      url: `/v1/sources/${src.id}/release`,
      headers: h.adminHeaders,
      payload: { numbers: [n], quarantineDays: 30 },
    });
    expect(rel.statusCode, rel.body).toBe(200);
    expect(Date.parse(rel.json().released[0].quarantineUntil)).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const late = await attributor().attribute({ accountId: ACCOUNT, number: n!, at: new Date(Date.now() + 1000) });
    expect(late).toMatchObject({ confidence: 'static', sourceId: src.id });
    expect(late.reason).toMatch(/quarantine/);
    const pool = await app.inject({
      method: 'POST',
      url: '/v1/pools',
      headers: h.adminHeaders,
      payload: { siteId: p.siteId, name: 'second', numbers: [n], holdSeconds: 60 },
    });
    expect(pool.statusCode).toBe(409);
    expect(pool.json().message).toMatch(/quarantine/);
  });

  it('sources past their end date release their numbers into quarantine (sweep)', async () => {
    const [n] = numberBlock(1);
    await app.inject({ method: 'POST', url: '/v1/numbers', headers: h.adminHeaders, payload: { number: n, trunkId: p.trunkId } });
    const src = (
      await app.inject({
        method: 'POST',
        url: '/v1/sources',
        headers: h.adminHeaders,
        payload: { name: 'Old print', kind: 'offline', channel: 'print', startsOn: '2020-01-01', endsOn: '2020-02-01', numbers: [n] },
      })
    ).json();
    expect(await releaseExpiredSources(h.db, { graceDays: 7, quarantineDays: 30 })).toBeGreaterThanOrEqual(1);
    const row = await h.db.query<{ source_id: string | null; quarantine_until: Date }>('SELECT source_id, quarantine_until FROM numbers WHERE number = $1', [
      n,
    ]);
    expect(row.rows[0]!.source_id).toBeNull();
    expect(row.rows[0]!.quarantine_until.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const hist = await h.db.query('SELECT upper(during) IS NOT NULL AS closed FROM source_number_history WHERE source_id = $1', [src.id]);
    expect(hist.rows).toEqual([{ closed: true }]);
  });

  it('repeat caller: earlier calls are counted and linked; a new caller is first-time', async () => {
    const caller = '+79161234567';
    for (const [i, when] of [ago(86_400), ago(3_600)].entries()) {
      await h.db.query(`INSERT INTO calls (account_id, sip_call_id, tracking_number, caller, started_at) VALUES ($1, $2, $3, $4, $5)`, [
        ACCOUNT,
        `c-${i}-${crypto.randomUUID()}`,
        p.numbers[0],
        caller,
        when,
      ]);
    }
    const res = await get(`number=${encodeURIComponent(p.numbers[0]!)}&at=${new Date().toISOString()}&caller=${encodeURIComponent(caller)}`);
    expect(res.json()).toMatchObject({ firstTime: false, priorCalls: 2 });
    expect(res.json().priorCallIds).toHaveLength(2);
    expect(res.json().previousCallId).toBe(res.json().priorCallIds[0]);
    const fresh = await attributor().attribute({ accountId: ACCOUNT, number: p.numbers[0]!, at: new Date(), caller: '+79167654321' });
    expect(fresh).toMatchObject({ firstTime: true, priorCalls: 0 });
  });

  it('a caller with thousands of earlier calls is counted up to 100, with the newest ten linked', async () => {
    const caller = '+79169990000';
    // A robocaller: 1,500 earlier calls, one a minute, the newest a minute ago.
    await h.db.query(
      `INSERT INTO calls (account_id, sip_call_id, tracking_number, caller, started_at)
       SELECT $1, 'robo-' || g, $2, $3, now() - make_interval(mins => g) FROM generate_series(1, 1500) g`,
      [ACCOUNT, p.numbers[0], caller],
    );
    const snap = await attributor().attributeWithCalls({ accountId: ACCOUNT, number: p.numbers[0]!, at: new Date(), caller });
    expect(snap).toMatchObject({ firstTime: false, priorCalls: PRIOR_CALLS_COUNTED });
    const newest = await h.db.query<{ id: string }>('SELECT id FROM calls WHERE caller = $1 ORDER BY started_at DESC LIMIT 10', [caller]);
    expect(snap.priorCallIds).toEqual(newest.rows.map((r) => r.id));
    // An instant in the past counts only what came before it.
    const earlier = await attributor().attribute({ accountId: ACCOUNT, number: p.numbers[0]!, at: new Date(Date.now() - 1_495.5 * 60_000), caller });
    expect(earlier.priorCalls).toBe(5);
  });
});

describe('GET /v1/pools/:id/usage', () => {
  it('reports leased, free, exhaustion, measured peak, utilisation and the advised size', async () => {
    const q = await provisionPool(h, app, { size: 4, holdSeconds: 60 });
    const ids = await h.db.query<{ id: string }>('SELECT id FROM numbers WHERE pool_id = $1 ORDER BY number', [q.poolId]);
    const ins = (i: number, a: Date, b: Date) =>
      h.db.query('INSERT INTO number_leases (number_id, pool_id, session_id, during) VALUES ($1, $2, gen_random_uuid(), tstzrange($3, $4))', [
        ids.rows[i]!.id,
        q.poolId,
        a,
        b,
      ]);
    // Three overlap between 40 and 30 min ago; one is still held now; a fourth never overlaps them.
    await ins(0, ago(3000), ago(1500));
    await ins(1, ago(2400), ago(1800));
    await ins(2, ago(2700), ago(-300));
    await ins(3, ago(1200), ago(900));
    await ins(0, ago(600), ago(500)); // adjacent ranges of one number count once at a time
    await h.db.query(`INSERT INTO pool_exhaustion_events (pool_id, policy, at, hold_seconds) VALUES ($1, 'default_number', $2, 60)`, [q.poolId, ago(2000)]);
    const res = await app.inject({ method: 'GET', url: `/v1/pools/${q.poolId}/usage?windowHours=1`, headers: await h.headersFor('viewer') });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      size: 4,
      leased: 1,
      free: 3,
      exhaustedEvents: 1,
      peakConcurrent: 3,
      peakDemand: 4,
      utilisation: 0.75,
      recommendedSize: 6,
    });
    expect(res.json().warning).toMatch(/1 visitor\(s\) found the pool exhausted.*add 2 number\(s\)/);
    const quiet = await provisionPool(h, app, { size: 3, holdSeconds: 60 });
    const r2 = await app.inject({ method: 'GET', url: `/v1/pools/${quiet.poolId}/usage`, headers: h.adminHeaders });
    expect(r2.json()).toMatchObject({ peakConcurrent: 0, utilisation: 0, recommendedSize: 0, warning: null });
  });
});
