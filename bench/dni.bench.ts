/**
 * bench:dni — throughput and latency of the snippet's hot path over real HTTP on loopback:
 * session create (Lua lease + write-behind) and keep-alive, open-loop at fixed rates (a bare
 * fastify route first, as the floor), the load generator in a worker thread; then wrk, closed
 * loop, ours against the bare route. Goals (issue 15): p99 < 5 ms at 2000 req/s, and session
 * create within 2× of the bare route's throughput. Runs in about a minute.
 * BENCH_DNI_RATES=1000,2000,5000 BENCH_DNI_SECONDS=4 to change the steps (BENCH_DNI_RATES=0: wrk only).
 * BENCH_DNI_CAPS=1 runs the per-client lease caps too (off by default: one loopback client would hit them).
 * BENCH_DNI_WORKERS=2 drives 2 snippet worker processes (DNI_WORKERS) with wrk too, against the bare route again.
 * BENCH_DNI_PROFILE=<dir> writes CPU profiles of this process (the servers' thread) while wrk drives the bare route and ours.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
// @ts-expect-error plain ESM helper without types (as bench/sip.bench.ts uses it)
import { startPostgres, startRedis } from '../infra/services.mjs';
import { createMetrics } from '../server/http/metrics.js';
import { createHarness } from '../test/helpers/harness.js';
import { startHarnessSnippetWorkers } from '../test/helpers/snippet-workers.js';
import { profiled } from './cpu-profile.js';
import { LOAD_WORKER_JS, type LoadResult } from './load-worker.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const RATES = (process.env.BENCH_DNI_RATES ?? '1000,2000,5000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const SECONDS = Number(process.env.BENCH_DNI_SECONDS ?? 4);
/** Closed-loop throughput with wrk (Debian package), ours against a bare fastify route, same run. */
const WRK_SECONDS = 5;
const WRK_CONNECTIONS = 16;
/** Upper bound of creates wrk can make in WRK_SECONDS here, so every one gets a lease. */
const WRK_MAX_CREATES = 40_000;
/** Alternating bare/ours wrk rounds (BENCH_DNI_WRK_ROUNDS): the median ratio shrugs off a neighbour's burst of work. */
const WRK_ROUNDS = Math.max(1, Number(process.env.BENCH_DNI_WRK_ROUNDS ?? 1));
/** BENCH_DNI_WORKERS=N: wrk also drives N snippet workers (DNI_WORKERS), each round next to the bare route again. */
const WORKERS = Math.max(0, Number(process.env.BENCH_DNI_WORKERS ?? 0));
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';

function runLoad(port: number, rate: number, requests: Array<{ path: string; body: string }>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(LOAD_WORKER_JS, {
      eval: true,
      workerData: {
        host: '127.0.0.1',
        port,
        rate,
        seconds: SECONDS,
        requests,
        maxInFlight: 2000,
        headers: { origin: 'https://shop.example', 'user-agent': UA, 'content-type': 'text/plain' },
      },
    });
    w.once('message', (m: LoadResult) => {
      void w.terminate();
      resolve(m);
    });
    w.once('error', reject);
  });
}

await startPostgres();
await startRedis();
// One load generator on loopback stands for many visitors: no per-address rate limit or lease cap.
// BENCH_DNI_CAPS=1 keeps the caps' work (as production runs them) at limits it never reaches.
const cap = process.env.BENCH_DNI_CAPS === '1' ? String(1e9) : '0';
const h = await createHarness({ DNI_RATE_LIMIT_PER_MINUTE: String(1e9), DNI_MAX_LEASES_PER_IP: cap, DNI_MAX_LEASES_PER_SUBNET: cap });
const server: number[] = [];
// Server-side time of each snippet request: the app's own request-duration metric, tapped.
const metrics = createMetrics();
const observe = metrics.httpDuration.observe.bind(metrics.httpDuration);
metrics.httpDuration.observe = ((labels: Record<string, string>, seconds: number) => {
  if (String(labels.route).startsWith('/v1/dni/')) server.push(seconds * 1000);
  observe(labels, seconds);
}) as typeof metrics.httpDuration.observe;
const app = await h.buildApp({ stores: { metrics }, dniFlushMs: 200 });

// Enough numbers that every create in every step gets its own lease (no exhaustion path).
const WARM_RATE = 500;
const poolSize = RATES.reduce((s, r) => s + r * SECONDS, 0) + WARM_RATE * SECONDS + WRK_ROUNDS * WRK_MAX_CREATES * (WORKERS > 0 ? 2 : 1) + 1000;
const trunk = await h.db.query<{ id: string }>(
  `INSERT INTO trunks (account_id, name, addresses) VALUES ('00000000-0000-0000-0000-000000000001', 'bench', '{127.0.0.1/32}') RETURNING id`,
);
const site = await h.db.query<{ id: string; site_key: string }>(
  `INSERT INTO sites (account_id, name, domains, default_number, site_key) VALUES ('00000000-0000-0000-0000-000000000001', 'bench', '{shop.example}', '+74950000000', 'site_bench_' || md5(random()::text)) RETURNING id, site_key`,
);
const pool = await h.db.query<{ id: string }>(
  `INSERT INTO pools (account_id, site_id, name, hold_seconds) VALUES ('00000000-0000-0000-0000-000000000001', $1, 'bench', 600) RETURNING id`,
  [site.rows[0]!.id],
);
await h.db.query(
  `INSERT INTO numbers (account_id, number, trunk_id, pool_id)
  SELECT '00000000-0000-0000-0000-000000000001', '+7495' || lpad((1000000 + g)::text, 7, '0'), $1, $2 FROM generate_series(1, $3) g`,
  [trunk.rows[0]!.id, pool.rows[0]!.id, poolSize],
);
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as AddressInfo).port;
const siteKey = site.rows[0]!.site_key;
say(
  `bench:dni — pool of ${poolSize} numbers, hold 600 s, steps ${RATES.join('/')} req/s × ${SECONDS} s, loopback HTTP, 2-core box shared with the load generator, Redis and Postgres`,
);

// Warm-up: Redis pool build, JIT, connections.
const warm = Array.from({ length: 200 }, (_, i) => ({
  path: '/v1/dni/sessions',
  body: JSON.stringify({ siteKey, url: `https://shop.example/?utm_source=warm&i=${i}` }),
}));
await runLoad(port, WARM_RATE, warm);

const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};
const fmt = (n: number) => n.toFixed(2).padStart(7);
// The same requests against a bare fastify route: what this box's loopback, scheduler and load
// generator cost alone (its latency is the floor under ours; wrk below compares throughput).
const { default: Fastify } = await import('fastify');
const bare = Fastify();
bare.post('/v1/dni/sessions', async () => ({ sessionId: 'x', number: '+74950000000', expiresAt: 0 }));
await bare.listen({ host: '127.0.0.1', port: 0 });
const barePort = (bare.server.address() as AddressInfo).port;
say('op          target  achieved  client p50  client p99   max     server p99  non-200  dropped+err  loop p99  gc max');
// Where a tail comes from: the servers' event loop stalled (our work, GC) or a request waited outside it (Redis, the box).
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
let gcMax = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMax = Math.max(gcMax, e.duration);
}).observe({ entryTypes: ['gc'] });
const sessionIds: string[] = [];
for (const op of ['bare', 'create', 'keepalive'] as const) {
  for (const rate of RATES) {
    let requests: Array<{ path: string; body: string }>;
    if (op === 'create' || op === 'bare') {
      requests = Array.from({ length: rate * SECONDS }, (_, i) => ({
        path: '/v1/dni/sessions',
        body: JSON.stringify({
          siteKey,
          url: `https://shop.example/landing?utm_source=bench&utm_medium=cpc&gclid=g${rate}x${i}`,
          referrer: 'https://www.google.com/',
        }),
      }));
    } else {
      requests = sessionIds.slice(0, Math.max(1, rate * SECONDS)).map((id) => ({ path: `/v1/dni/sessions/${id}/keepalive`, body: '' }));
    }
    server.length = 0;
    loopDelay.reset();
    loopDelay.enable();
    gcMax = 0;
    const r = await runLoad(op === 'bare' ? barePort : port, rate, requests);
    const non200 = Object.entries(r.status)
      .filter(([s]) => s !== '200')
      .reduce((s, [, n]) => s + n, 0);
    loopDelay.disable();
    say(
      `${op.padEnd(10)} ${String(rate).padStart(7)}  ${r.achieved.toFixed(0).padStart(8)}  ${fmt(r.p50)} ms  ${fmt(r.p99)} ms ${fmt(r.max)} ms  ${op === 'bare' ? '      -' : fmt(q(server, 0.99))} ms  ${String(non200).padStart(7)}  ${String(r.errors + r.dropped).padStart(6)}  ${fmt(loopDelay.percentile(99) / 1e6)} ms ${fmt(gcMax)} ms`,
    );
    if (op === 'create' && sessionIds.length === 0) {
      const rows = await h.db.query<{ id: string }>('SELECT id FROM dni_sessions WHERE number IS NOT NULL');
      sessionIds.push(...rows.rows.map((x) => x.id));
    }
  }
  if (op === 'create') {
    await new Promise((r) => setTimeout(r, 500));
    const rows = await h.db.query<{ id: string }>('SELECT id FROM dni_sessions WHERE number IS NOT NULL');
    sessionIds.length = 0;
    sessionIds.push(...rows.rows.map((x) => x.id));
  }
}
await new Promise((r) => setTimeout(r, 500));
const leases = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM number_leases');
const sessions = await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dni_sessions');
say(`history written behind: ${sessions.rows[0]!.n} sessions, ${leases.rows[0]!.n} lease rows in Postgres`);
say('goal: p99 < 5 ms at 2000 req/s (client-side, from the scheduled send time; server p99 = fastify reply.elapsedTime)');

/**
 * Requests per second wrk gets from a POST of a fresh session-create body each time, and this
 * process's CPU time per request (less sensitive than req/s to whatever else runs on the box).
 * Asynchronous on purpose: the servers under test share this process's event loop.
 */
async function wrkRequestsPerSecond(url: string): Promise<{ rps: number; non2xx: number; cpuMicros: number }> {
  const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wrk-')), 'create.lua');
  fs.writeFileSync(
    script,
    `counter = 0
request = function()
  counter = counter + 1
  local body = '{"siteKey":"${siteKey}","url":"https://shop.example/landing?utm_source=wrk&gclid=w' .. counter .. '-' .. math.random(1e9) .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "text/plain", ["Origin"] = "https://shop.example", ["User-Agent"] = "${UA}"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d\\n", summary.requests, summary.errors.status, summary.duration))
end
`,
  );
  const cpu = process.cpuUsage();
  const { stdout: out } = await promisify(execFile)('wrk', ['-t1', `-c${WRK_CONNECTIONS}`, `-d${WRK_SECONDS}s`, '-s', script, url], { encoding: 'utf8' });
  const match = /RESULT (\d+) (\d+) (\d+)/.exec(out);
  if (!match) throw new Error(`unexpected wrk output:\n${out}`);
  const used = process.cpuUsage(cpu);
  return { rps: Number(match[1]) / (Number(match[3]) / 1e6), non2xx: Number(match[2]), cpuMicros: (used.user + used.system) / Number(match[1]) };
}

if (fs.existsSync('/usr/bin/wrk')) {
  const ratios: number[] = [];
  for (let round = 1; round <= WRK_ROUNDS; round++) {
    const { result: baseline } = await profiled(process.env.BENCH_DNI_PROFILE, 'dni-wrk-bare', () =>
      wrkRequestsPerSecond(`http://127.0.0.1:${barePort}/v1/dni/sessions`),
    );
    const { result: ours } = await profiled(process.env.BENCH_DNI_PROFILE, 'dni-wrk-ours', () =>
      wrkRequestsPerSecond(`http://127.0.0.1:${port}/v1/dni/sessions`),
    );
    ratios.push(ours.rps / baseline.rps);
    say(
      `wrk -c${WRK_CONNECTIONS} ${WRK_SECONDS} s, session create: bare fastify ${baseline.rps.toFixed(0)} req/s, ours ${ours.rps.toFixed(0)} req/s (${ours.non2xx} non-2xx): ${((100 * ours.rps) / baseline.rps).toFixed(0)}% of bare; server CPU per request ${baseline.cpuMicros.toFixed(0)} µs bare, ${ours.cpuMicros.toFixed(0)} µs ours`,
    );
  }
  if (WRK_ROUNDS > 1) say(`median of ${WRK_ROUNDS} rounds: ${(100 * q(ratios, 0.5)).toFixed(0)}% of bare (goal: 50%, within 2×)`);
  if (WORKERS > 0) await workersRounds();
} else {
  say('wrk not installed (apt-get install wrk): no comparison with a bare fastify route');
}
/** The same wrk rounds against N snippet worker processes (their own Postgres/Redis connections, one shared port). */
async function workersRounds(): Promise<void> {
  const { workers, port: workersPort } = await startHarnessSnippetWorkers(h, WORKERS, { DNI_RATE_LIMIT_PER_MINUTE: String(1e9) });
  const ratios: number[] = [];
  for (let round = 1; round <= WRK_ROUNDS; round++) {
    const baseline = await wrkRequestsPerSecond(`http://127.0.0.1:${barePort}/v1/dni/sessions`);
    const ours = await wrkRequestsPerSecond(`http://127.0.0.1:${workersPort}/v1/dni/sessions`);
    ratios.push(ours.rps / baseline.rps);
    say(
      `wrk -c${WRK_CONNECTIONS} ${WRK_SECONDS} s, session create: bare fastify ${baseline.rps.toFixed(0)} req/s, ${WORKERS} snippet workers ${ours.rps.toFixed(0)} req/s (${ours.non2xx} non-2xx): ${((100 * ours.rps) / baseline.rps).toFixed(0)}% of bare`,
    );
  }
  if (WRK_ROUNDS > 1) say(`median of ${WRK_ROUNDS} rounds with ${WORKERS} workers: ${(100 * q(ratios, 0.5)).toFixed(0)}% of bare`);
  await workers.stop();
}

await bare.close();
await app.close();
await h.close();
process.exit(0);
