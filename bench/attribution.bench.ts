/**
 * bench:attribution — traffic mixes drive the real API (sessions, keep-alives, GET
 * /v1/attribution at the call instant) in compressed time: 1 s stands for 1 min.
 *
 * For each mix:
 *   1. learn: the mix runs on a generous pool; every call is written as a call record (as the
 *      call path would), so /v1/pools/{id}/usage measures the delay from each caller's last
 *      activity to the call, learns the cool-down and advises a size;
 *   2. check: fresh visitors of the same mix on a pool of the advised size (with the learned
 *      cool-down, as if the pool had been resized). A call is right when the attributed session
 *      belongs to the visitor who called. Printed: accuracy, calls `exact` but wrong, numbers
 *      used against one per 20 daily visitors, and the time taken.
 * Goal: ≥ 99.5 % in every mix, 0 confidently wrong, fewer numbers than the rule of thumb.
 * For contrast the same fresh crowd also runs on a pool of 60 % of the advice.
 * The mixes run side by side (about 2 min in all); BENCH_ATTR_MIXES=steady,tabs picks some.
 */
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
// @ts-expect-error plain ESM helper without types (as bench/sip.bench.ts uses it)
import { startPostgres, startRedis } from '../infra/services.mjs';
import { createHarness, type Harness } from '../test/helpers/harness.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const BOT_UA = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
const ACCOUNT = '00000000-0000-0000-0000-000000000001';
/** Compressed time: one simulated day is 1440 s (1 s = 1 min). */
const DAY_SECONDS = 1440;
const HOLD = 4;
/** BENCH_ATTR_UNDERSIZED=0 skips the contrast run at 60 % of the advised size. */
const UNDERSIZED = process.env.BENCH_ATTR_UNDERSIZED !== '0';
const say = (s: string) => process.stdout.write(`${s}\n`);

/** Seeded PRNG: runs are repeatable. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
type Random = () => number;
const expo = (r: Random, mean: number) => -Math.log(1 - r()) * mean;

interface Mix {
  name: string;
  seconds: number;
  /** Visitors per second at t (humans and bots). */
  rate: (t: number) => number;
  maxRate: number;
  /** Tabs a visitor opens in one visit. */
  tabs?: (r: Random) => number;
  /** Share of visitors who come back for a second visit, and after how long (s after leaving). */
  returning?: { share: number; gap: (r: Random) => number };
  /** Delay from leaving to a call, for callers who call after leaving. */
  lateDelay?: (r: Random) => number;
  /** Share of arrivals that are robots: declared (bot user agent) and stealthy (a real UA, one page, no keep-alive). */
  bots?: { declared: number; stealth: number };
}

const MIXES: Mix[] = [
  { name: 'steady', seconds: 14, rate: () => 14, maxRate: 14 },
  { name: 'spike 10x', seconds: 14, rate: (t) => (t >= 6 && t < 8 ? 40 : 4), maxRate: 40 },
  { name: 'tabs', seconds: 14, rate: () => 12, maxRate: 12, tabs: (r) => 1 + Math.floor(r() * 4) },
  { name: 'returning', seconds: 14, rate: () => 12, maxRate: 12, returning: { share: 0.4, gap: (r) => r() * 3 * HOLD } },
  // A long tail: a quarter of those who call after leaving do it 1 to 4 holds later.
  { name: 'late tail', seconds: 14, rate: () => 12, maxRate: 12, lateDelay: (r) => (r() < 0.25 ? HOLD * (1 + 3 * r()) : Math.min(10, expo(r, 1))) },
  { name: 'bots', seconds: 14, rate: () => 24, maxRate: 24, bots: { declared: 0.3, stealth: 0.2 } },
];

interface Visit {
  at: number;
  duration: number;
  /** Offsets of the tabs opened in this visit (the first at 0). */
  tabs: number[];
}
interface Person {
  visitor: string;
  kind: 'human' | 'declared-bot' | 'stealth-bot';
  visits: Visit[];
  /** Absolute time of the call (humans only; everyone who is human calls, to measure many calls). */
  callAt: number | null;
}

function people(mix: Mix, seed: number): Person[] {
  const r = rng(seed);
  const out: Person[] = [];
  for (let t = expo(r, 1 / mix.maxRate); t < mix.seconds; t += expo(r, 1 / mix.maxRate)) {
    if (r() >= mix.rate(t) / mix.maxRate) continue; // thinning: a time-varying Poisson process
    const visitor = `b${crypto.randomBytes(8).toString('hex')}`;
    const roll = r();
    if (mix.bots && roll < mix.bots.declared) {
      out.push({ visitor, kind: 'declared-bot', visits: [{ at: t, duration: 0, tabs: [0] }], callAt: null });
      continue;
    }
    if (mix.bots && roll < mix.bots.declared + mix.bots.stealth) {
      out.push({ visitor, kind: 'stealth-bot', visits: [{ at: t, duration: 0, tabs: [0] }], callAt: null });
      continue;
    }
    const visitOf = (at: number): Visit => {
      const duration = Math.min(3 * HOLD, Math.max(1, expo(r, HOLD)));
      const tabCount = mix.tabs ? mix.tabs(r) : 1;
      return { at, duration, tabs: [0, ...Array.from({ length: tabCount - 1 }, () => r() * duration * 0.8)].sort((a, b) => a - b) };
    };
    const visits = [visitOf(t)];
    if (mix.returning && r() < mix.returning.share) {
      const first = visits[0]!;
      visits.push(visitOf(first.at + first.duration + mix.returning.gap(r)));
    }
    const last = visits[visits.length - 1]!;
    // Half call while the page is open, half after leaving.
    const callAt =
      r() < 0.5
        ? last.at + 0.5 + r() * Math.max(0, last.duration - 0.5)
        : last.at + last.duration + (mix.lateDelay ? mix.lateDelay(r) : Math.min(10, expo(r, 1)));
    out.push({ visitor, kind: 'human', visits, callAt });
  }
  return out;
}

interface Outcome {
  visitors: number;
  humans: number;
  calls: number;
  correct: number;
  exactWrong: number;
  errors: number;
  byConfidence: Record<string, number>;
  seconds: number;
  recorded: Array<{ number: string; at: Date; sessionId: string | null; confidence: string }>;
}

let numberSeq = 0;
async function provisionPool(h: Harness, app: FastifyInstance, trunkId: string, size: number, name: string) {
  const base = 2_000_000 + (numberSeq += 2000);
  const numbers = Array.from({ length: size }, (_, i) => `+7495${String(base + i).padStart(7, '0')}`);
  await h.db.query('INSERT INTO numbers (account_id, number, trunk_id) SELECT $1, unnest($2::text[]), $3', [ACCOUNT, numbers, trunkId]);
  const site = (
    await app.inject({
      method: 'POST',
      url: '/v1/sites',
      headers: h.adminHeaders,
      payload: { name: `${name}-${base}`, domains: ['shop.example'], defaultNumber: `+7495${String(base + 1999).padStart(7, '0')}` },
    })
  ).json();
  const pool = (
    await app.inject({
      method: 'POST',
      url: '/v1/pools',
      headers: h.adminHeaders,
      payload: { siteId: site.id, name, numbers, holdSeconds: HOLD, exhaustionPolicy: 'share' },
    })
  ).json();
  return { siteKey: site.siteKey as string, poolId: pool.id as string };
}

async function simulate(app: FastifyInstance, h: Harness, siteKey: string, crowd: Person[]): Promise<Outcome> {
  const headersOf = (p: Person) => ({
    origin: 'https://shop.example',
    'user-agent': p.kind === 'declared-bot' ? BOT_UA : UA,
    'content-type': 'text/plain',
    cookie: `ct_vid=${p.visitor}`,
  });
  const visitorOfSession = new Map<string, string>();
  const o: Outcome = { visitors: crowd.length, humans: 0, calls: 0, correct: 0, exactWrong: 0, errors: 0, byConfidence: {}, seconds: 0, recorded: [] };
  const t0 = Date.now();
  const at = (s: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, t0 + s * 1000 - Date.now())));
  await Promise.all(
    crowd.map(async (p, i) => {
      if (p.kind === 'human') o.humans++;
      // What the visitor last saw on the page, and when.
      let shown: { number: string; tracking: boolean; seenAt: number } | null = null;
      const see = (number: string, tracking: boolean, seenAt: number) => {
        if (p.callAt === null || seenAt <= p.callAt) if (!shown || seenAt >= shown.seenAt) shown = { number, tracking, seenAt };
      };
      const tabs = p.visits.flatMap((v, k) =>
        v.tabs.map(async (offset) => {
          const openAt = v.at + offset;
          await at(openAt);
          const res = await app.inject({
            method: 'POST',
            url: '/v1/dni/sessions',
            headers: headersOf(p),
            payload: JSON.stringify({ siteKey, url: `https://shop.example/?utm_source=sim&utm_content=${i}-${k}` }),
          });
          const s = res.json<{ sessionId: string | null; number: string; tracking: boolean; keepAliveSeconds: number }>();
          if (!s.sessionId) return;
          visitorOfSession.set(s.sessionId, p.visitor);
          see(s.number, s.tracking, openAt);
          if (p.kind !== 'human') return; // robots never keep a page alive
          const leave = v.at + v.duration;
          for (let beat = openAt + s.keepAliveSeconds; beat < leave; beat += s.keepAliveSeconds) {
            await at(beat);
            const ka = (await app.inject({ method: 'POST', url: `/v1/dni/sessions/${s.sessionId}/keepalive`, headers: headersOf(p) })).json<{
              number: string;
              tracking: boolean;
            }>();
            see(ka.number, ka.tracking, beat);
          }
        }),
      );
      if (p.callAt !== null) {
        await at(p.callAt);
        const number = (shown as { number: string } | null)?.number;
        if (number) {
          o.calls++;
          const callAt = new Date();
          const res = await app.inject({
            method: 'GET',
            url: `/v1/attribution?number=${encodeURIComponent(number)}&at=${callAt.toISOString()}`,
            headers: h.adminHeaders,
          });
          // A failed lookup counts as a wrong answer (and is reported, so a store outage is not mistaken for bad attribution).
          if (res.statusCode !== 200) o.errors++;
          const a = res.statusCode === 200 ? res.json<{ sessionId: string | null; confidence: string }>() : { sessionId: null, confidence: 'error' };
          o.byConfidence[a.confidence] = (o.byConfidence[a.confidence] ?? 0) + 1;
          const right = a.sessionId !== null && visitorOfSession.get(a.sessionId) === p.visitor;
          if (right) o.correct++;
          else if (process.env.BENCH_DEBUG) say(`wrong: ${p.visitor} number ${number} → ${JSON.stringify(a)}`);
          else if (a.confidence === 'exact') o.exactWrong++;
          o.recorded.push({ number, at: callAt, sessionId: a.sessionId, confidence: a.confidence });
        }
      }
      await Promise.all(tabs);
    }),
  );
  o.seconds = (Date.now() - t0) / 1000;
  return o;
}

/** Writes the calls as the call path would (one record each), so the pool's usage can measure call delays. */
async function recordCalls(h: Harness, trunkId: string, poolId: string, calls: Outcome['recorded']): Promise<void> {
  const attributed = calls.filter((c) => c.sessionId);
  await h.db.query(
    `INSERT INTO calls (account_id, sip_call_id, trunk_id, number_id, tracking_number, caller, started_at, session_id, pool_id, confidence)
     SELECT $1, 'bench-' || gen_random_uuid(), $2, n.id, v.num, '+79160000000', v.at, v.sid, $3, v.conf
       FROM unnest($4::text[], $5::timestamptz[], $6::uuid[], $7::text[]) AS v(num, at, sid, conf) JOIN numbers n ON n.number = v.num`,
    [
      ACCOUNT,
      trunkId,
      poolId,
      attributed.map((c) => c.number),
      attributed.map((c) => c.at),
      attributed.map((c) => c.sessionId),
      attributed.map((c) => c.confidence),
    ],
  );
}

interface Usage {
  recommendedSize: number;
  cooldownSeconds: number;
  cooldownLearned: boolean;
  expectedAccuracy: number | null;
  peakDemand: number;
  callDelays: { calls: number; p50Seconds: number; p90Seconds: number; p99Seconds: number };
}

async function runMix(h: Harness, app: FastifyInstance, trunkId: string, mix: Mix, index: number) {
  const started = Date.now();
  const learnCrowd = people(mix, 1000 + index);
  // Generous: everyone arriving in the busiest 40 s could hold a number.
  const generous = Math.ceil(mix.maxRate * 40);
  const learnPool = await provisionPool(h, app, trunkId, generous, `learn-${index}`);
  const learned = await simulate(app, h, learnPool.siteKey, learnCrowd);
  await recordCalls(h, trunkId, learnPool.poolId, learned.recorded);
  const usage = (await app.inject({ method: 'GET', url: `/v1/pools/${learnPool.poolId}/usage?windowHours=1`, headers: h.adminHeaders })).json<Usage>();
  const advised = usage.recommendedSize;
  const checkPool = await provisionPool(h, app, trunkId, advised, `check-${index}`);
  // The resized pool keeps what it learned.
  if (usage.cooldownLearned) await h.db.query('UPDATE pools SET cooldown_seconds = $2 WHERE id = $1', [checkPool.poolId, usage.cooldownSeconds]);
  const checkCrowd = people(mix, 2000 + index);
  const checkStarted = Date.now();
  const check = await simulate(app, h, checkPool.siteKey, checkCrowd);
  const checkSeconds = (Date.now() - checkStarted) / 1000;
  // For contrast: the same crowd on a pool of 60 % of the advice (does the advice matter, and does the cool-down keep `exact` honest?).
  let undersized: { size: number; outcome: Outcome } | null = null;
  if (UNDERSIZED) {
    const size = Math.max(1, Math.round(advised * 0.6));
    const small = await provisionPool(h, app, trunkId, size, `small-${index}`);
    if (usage.cooldownLearned) await h.db.query('UPDATE pools SET cooldown_seconds = $2 WHERE id = $1', [small.poolId, usage.cooldownSeconds]);
    undersized = { size, outcome: await simulate(app, h, small.siteKey, checkCrowd) };
  }
  const dailyVisitors = (check.visitors / mix.seconds) * DAY_SECONDS;
  return { mix, usage, learned, check, checkSeconds, undersized, advised, ruleOfThumb: Math.ceil(dailyVisitors / 20), seconds: (Date.now() - started) / 1000 };
}

await startPostgres();
await startRedis();
// One load generator on loopback stands for many visitors: no per-address rate limit or lease cap.
const h = await createHarness({ DNI_RATE_LIMIT_PER_MINUTE: String(1e9), DNI_MAX_LEASES_PER_IP: '0', DNI_MAX_LEASES_PER_SUBNET: '0' });
const app = await h.buildApp({ dniFlushMs: 100 });
const trunk = (await app.inject({ method: 'POST', url: '/v1/trunks', headers: h.adminHeaders, payload: { name: 'sim', addresses: ['127.0.0.1/32'] } })).json();
const chosen = process.env.BENCH_ATTR_MIXES?.split(',');
const mixes = chosen ? MIXES.filter((m) => chosen.includes(m.name.split(' ')[0]!)) : MIXES;

say(
  `bench:attribution — ${mixes.length} mixes side by side, 1 s = 1 min, hold ${HOLD} s, visits ~exp(${HOLD} s), every human calls (half while on the page, half after leaving), exhaustion policy share`,
);
const t0 = Date.now();
const results = await Promise.all(mixes.map((mix, i) => runMix(h, app, trunk.id, mix, i)));
say('');
say('mix          visitors  calls  delay p50/p90/p99 s  cool s  advised  1/20 rule  accuracy   exact-wrong     e/a/none  check s  total s');
let pass = true;
for (const r of results) {
  const c = r.check;
  const accuracy = c.calls ? (c.correct / c.calls) * 100 : 100;
  const ok = accuracy >= 99.5 && c.exactWrong === 0 && r.advised < r.ruleOfThumb;
  pass &&= ok;
  const d = r.usage.callDelays;
  const conf = ['exact', 'ambiguous', 'none'].map((k) => c.byConfidence[k] ?? 0).join('/');
  say(
    [
      r.mix.name.padEnd(11),
      String(c.visitors).padStart(9),
      String(c.calls).padStart(6),
      `${d.p50Seconds}/${d.p90Seconds}/${d.p99Seconds}`.padStart(20),
      String(r.usage.cooldownSeconds).padStart(7),
      String(r.advised).padStart(8),
      String(r.ruleOfThumb).padStart(10),
      `${accuracy.toFixed(2)} %`.padStart(9),
      String(c.exactWrong).padStart(13),
      conf.padStart(12),
      r.checkSeconds.toFixed(1).padStart(8),
      r.seconds.toFixed(1).padStart(8),
      ok ? ' PASS' : ' FAIL',
    ].join(' '),
  );
}
for (const r of results) {
  if (!r.undersized) continue;
  const u = r.undersized.outcome;
  const conf = ['exact', 'ambiguous', 'none'].map((k) => u.byConfidence[k] ?? 0).join('/');
  say(
    `  contrast, ${r.mix.name} at ${r.undersized.size} numbers (60 % of the advice): ${((u.correct / Math.max(1, u.calls)) * 100).toFixed(2)} % right, ${u.exactWrong} exact-but-wrong, e/a/none ${conf}`,
  );
}
say(
  `learn runs (generous pools, default cool-down) for reference: ${results
    .map(
      (r) =>
        `${r.mix.name} ${((r.learned.correct / Math.max(1, r.learned.calls)) * 100).toFixed(2)} % (${r.learned.exactWrong} exact-but-wrong, ${r.learned.errors} failed lookups)`,
    )
    .join(', ')}`,
);
const failed = results.reduce((sum, r) => sum + r.check.errors, 0);
if (failed > 0) say(`${failed} attribution lookups failed at the advised size (counted as wrong)`);
say(
  `goal: ≥ 99.5 % at the advised size, 0 exact-but-wrong, fewer numbers than 1 per 20 daily visitors → ${pass ? 'PASS' : 'FAIL'}; total ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);
await app.close();
await h.close();
process.exit(0);
