/**
 * bench:attribution — a traffic simulator drives the real API (sessions, keep-alives,
 * GET /v1/attribution at the call instant) in compressed time and reports the share of calls
 * matched to the session that really caused them, for several pool sizes at once, then the pool
 * size /v1/pools/{id}/usage advises from the measured peak, and the accuracy at that size.
 * Goal: ≥ 99.5 % at the advised size. About 80 s.
 *
 * Model (seconds of compressed time; think minutes): visitors arrive as a Poisson process;
 * a visit lasts an exponential time; a share of visitors call, half while the page is open,
 * half after leaving with an exponential delay (some after the hold ran out: late callers).
 */
import type { FastifyInstance } from 'fastify';
// @ts-expect-error plain ESM helper without types (as bench/sip.bench.ts uses it)
import { startPostgres, startRedis } from '../infra/services.mjs';
import { createHarness, type Harness } from '../test/helpers/harness.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const M = {
  arrivalsPerSecond: env('BENCH_ATTR_RATE', 15),
  seconds: env('BENCH_ATTR_SECONDS', 25),
  visitMeanSeconds: 6,
  holdSeconds: 6,
  // Every visitor calls: the share does not change accuracy, only how many calls measure it.
  callShare: 1,
  callDuringVisit: 0.5,
  callAfterMeanSeconds: 1.5,
  pools: (process.env.BENCH_ATTR_POOLS ?? '60,100,140,200,300').split(',').map(Number),
};
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const say = (s: string) => process.stdout.write(`${s}\n`);

/** Seeded PRNG: every pool sees the same visitors. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const exp = (r: () => number, mean: number) => -Math.log(1 - r()) * mean;

interface Visitor {
  arriveAt: number;
  visit: number;
  callAt: number | null;
}
function visitors(seed: number): Visitor[] {
  const r = rng(seed);
  const out: Visitor[] = [];
  for (let t = exp(r, 1 / M.arrivalsPerSecond); t < M.seconds; t += exp(r, 1 / M.arrivalsPerSecond)) {
    // Capped so the run stays bounded (2.5× the mean; the exponential tail beyond is a few visitors).
    const visit = Math.min(2.5 * M.visitMeanSeconds, Math.max(1, exp(r, M.visitMeanSeconds)));
    let callAt: number | null = null;
    if (r() < M.callShare)
      callAt = r() < M.callDuringVisit ? 1 + r() * Math.max(0, visit - 1) : visit + Math.min(10 * M.callAfterMeanSeconds, exp(r, M.callAfterMeanSeconds));
    out.push({ arriveAt: t, visit, callAt });
  }
  return out;
}

interface Outcome {
  size: number;
  sessions: number;
  calls: number;
  correct: number;
  byConfidence: Record<string, number>;
  noNumber: number;
  usage: { peakConcurrent: number; peakDemand: number; exhaustedEvents: number; recommendedSize: number; utilisation: number };
}

let numberSeq = 0;
async function provision(h: Harness, app: FastifyInstance, trunkId: string, size: number): Promise<{ siteKey: string; poolId: string }> {
  const base = 2_000_000 + (numberSeq += 1000);
  const numbers = Array.from({ length: size }, (_, i) => `+7495${String(base + i).padStart(7, '0')}`);
  await h.db.query(`INSERT INTO numbers (account_id, number, trunk_id) SELECT '00000000-0000-0000-0000-000000000001', unnest($1::text[]), $2`, [
    numbers,
    trunkId,
  ]);
  const site = (
    await app.inject({
      method: 'POST',
      url: '/v1/sites',
      headers: h.adminHeaders,
      payload: { name: `sim-${size}-${base}`, domains: ['shop.example'], defaultNumber: `+7495${String(base + 999).padStart(7, '0')}` },
    })
  ).json();
  const pool = (
    await app.inject({
      method: 'POST',
      url: '/v1/pools',
      headers: h.adminHeaders,
      payload: { siteId: site.id, name: 'sim', numbers, holdSeconds: M.holdSeconds, exhaustionPolicy: 'share' },
    })
  ).json();
  return { siteKey: site.siteKey, poolId: pool.id };
}

async function simulate(h: Harness, app: FastifyInstance, trunkId: string, size: number, people: Visitor[]): Promise<Outcome> {
  const { siteKey, poolId } = await provision(h, app, trunkId, size);
  const headers = { origin: 'https://shop.example', 'user-agent': UA, 'content-type': 'text/plain' };
  const o: Outcome = {
    size,
    sessions: 0,
    calls: 0,
    correct: 0,
    byConfidence: {},
    noNumber: 0,
    usage: { peakConcurrent: 0, peakDemand: 0, exhaustedEvents: 0, recommendedSize: 0, utilisation: 0 },
  };
  const t0 = Date.now();
  const at = (s: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, t0 + s * 1000 - Date.now())));
  await Promise.all(
    people.map(async (v, i) => {
      await at(v.arriveAt);
      const res = await app.inject({
        method: 'POST',
        url: '/v1/dni/sessions',
        headers,
        payload: JSON.stringify({ siteKey, url: `https://shop.example/?utm_source=sim&utm_content=${i}` }),
      });
      const s = res.json<{ sessionId: string; number: string; tracking: boolean; keepAliveSeconds: number }>();
      o.sessions++;
      let number = s.number;
      let tracking = s.tracking;
      const leave = v.arriveAt + v.visit;
      const beats = (async () => {
        for (let k = 1; v.arriveAt + k * s.keepAliveSeconds < leave; k++) {
          await at(v.arriveAt + k * s.keepAliveSeconds);
          const ka = (await app.inject({ method: 'POST', url: `/v1/dni/sessions/${s.sessionId}/keepalive`, headers })).json<{
            number: string;
            tracking: boolean;
          }>();
          // The visitor reads the number on the page at the moment of calling.
          if (v.callAt === null || v.arriveAt + k * s.keepAliveSeconds <= v.arriveAt + v.callAt) {
            number = ka.number;
            tracking = ka.tracking;
          }
        }
      })();
      if (v.callAt !== null) {
        await at(v.arriveAt + v.callAt);
        o.calls++;
        if (!tracking) o.noNumber++;
        const a = (
          await app.inject({
            method: 'GET',
            url: `/v1/attribution?number=${encodeURIComponent(number)}&at=${new Date().toISOString()}`,
            headers: h.adminHeaders,
          })
        ).json<{ sessionId: string | null; confidence: string }>();
        o.byConfidence[a.confidence] = (o.byConfidence[a.confidence] ?? 0) + 1;
        if (a.sessionId === s.sessionId) o.correct++;
      }
      await beats;
    }),
  );
  o.usage = (await app.inject({ method: 'GET', url: `/v1/pools/${poolId}/usage?windowHours=1`, headers: h.adminHeaders })).json();
  return o;
}

function row(o: Outcome): string {
  const pct = o.calls ? ((o.correct / o.calls) * 100).toFixed(2) : '—';
  const conf = ['exact', 'ambiguous', 'static', 'none'].map((c) => o.byConfidence[c] ?? 0).join('/');
  return `${String(o.size).padStart(5)}  ${String(o.sessions).padStart(8)}  ${String(o.calls).padStart(5)}  ${pct.padStart(7)} %  ${conf.padStart(12)}  ${String(o.usage.exhaustedEvents).padStart(9)}  ${String(o.usage.peakConcurrent).padStart(5)}  ${String(o.usage.peakDemand).padStart(6)}  ${String(o.usage.recommendedSize).padStart(7)}`;
}

await startPostgres();
await startRedis();
const h = await createHarness({ DNI_RATE_LIMIT_PER_MINUTE: String(1e9) });
const app = await h.buildApp({ dniFlushMs: 100 });
const trunk = (await app.inject({ method: 'POST', url: '/v1/trunks', headers: h.adminHeaders, payload: { name: 'sim', addresses: ['127.0.0.1/32'] } })).json();

say(
  `bench:attribution — ${M.arrivalsPerSecond} visitors/s for ${M.seconds} s, visit ~exp(${M.visitMeanSeconds} s), hold ${M.holdSeconds} s, ${M.callShare * 100} % call (${M.callDuringVisit * 100} % during the visit, the rest ~exp(${M.callAfterMeanSeconds} s) after leaving), exhaustion policy share`,
);
say(' pool  sessions  calls  correct     e/a/s/none  exhausted   peak  demand  advised');
const people = visitors(42);
const first = await Promise.all(M.pools.map((size) => simulate(h, app, trunk.id, size, people)));
for (const o of first) say(row(o));
// Advice comes from the biggest pool: never exhausted there, so its peak is the real demand.
const largest = first[first.length - 1]!;
const advised = largest.usage.recommendedSize;
say(`advised size from measured peak demand ${largest.usage.peakDemand} (+ headroom): ${advised}`);
const check = await simulate(h, app, trunk.id, advised, visitors(7));
say(`${row(check)}   ← advised size, fresh visitors`);
const acc = check.calls ? (check.correct / check.calls) * 100 : 0;
say(`accuracy at the advised size: ${acc.toFixed(2)} % of ${check.calls} calls (goal ≥ 99.5 %) → ${acc >= 99.5 ? 'PASS' : 'FAIL'}`);
await app.close();
await h.close();
process.exit(0);
