/**
 * bench:numbers — the Numbers page's first screen with 5,000 numbers (3 pools of 1,000, a source of
 * 500, the rest free), over real HTTP on loopback: the first page of GET /v1/numbers, the groups,
 * a digit search, a filtered page, and the whole first screen (page + groups + pools fetched
 * together, as the UI does). Goal: first screen < 300 ms. Runs in a few seconds.
 * BENCH_NUMBERS=5000 BENCH_NUMBERS_ROUNDS=200 to change the size.
 */
// @ts-expect-error plain ESM helper without types (as bench/sip.bench.ts uses it)
import { startPostgres, startRedis } from '../infra/services.mjs';
import { createHarness } from '../test/helpers/harness.js';

const say = (s: string) => process.stdout.write(`${s}\n`);
const TOTAL = Number(process.env.BENCH_NUMBERS ?? 5000);
const ROUNDS = Number(process.env.BENCH_NUMBERS_ROUNDS ?? 200);

await startPostgres();
await startRedis();
const h = await createHarness();
const app = await h.buildApp();
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const headers = { ...h.adminHeaders, 'content-type': 'application/json' };
const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

try {
  const trunk = await call('POST', '/v1/trunks', { name: 'bench carrier', addresses: ['127.0.16.50/32'] });
  const numbers = Array.from({ length: TOTAL }, (_, i) => `+7495${String(2_000_000 + i).padStart(7, '0')}`);
  let started = performance.now();
  const bulk = await call('POST', '/v1/numbers/bulk', { trunkId: trunk.id, text: numbers.join('\n') });
  say(`bulk add of ${TOTAL} numbers in one request: ${bulk.added.length} added in ${Math.round(performance.now() - started)} ms`);
  const site = await call('POST', '/v1/sites', { name: 'bench', domains: ['bench.example'], defaultNumber: '+74951999999' });
  const poolSize = Math.floor(TOTAL / 5);
  let poolId = '';
  for (let p = 0; p < 3; p++) {
    const pool = await call('POST', '/v1/pools', {
      siteId: site.id,
      name: `pool ${p}`,
      holdSeconds: 1800,
      numbers: numbers.slice(p * poolSize, (p + 1) * poolSize),
    });
    poolId ||= pool.id;
  }
  await call('POST', '/v1/sources', {
    name: 'billboard',
    kind: 'offline',
    channel: 'outdoor',
    numbers: numbers.slice(3 * poolSize, 3 * poolSize + poolSize / 2),
  });

  const measure = async (label: string, work: () => Promise<unknown>) => {
    for (let i = 0; i < 10; i++) await work(); // warm-up: JIT, pg plans, connections
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      started = performance.now();
      await work();
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
    say(`${label.padEnd(44)} p50 ${at(0.5).padStart(6)} ms   p95 ${at(0.95).padStart(6)} ms   max ${times[times.length - 1]!.toFixed(1).padStart(6)} ms`);
  };
  say(`\n${TOTAL} numbers, ${ROUNDS} rounds each, sequential requests over loopback HTTP:`);
  await measure('GET /v1/numbers?limit=50 (first page)', () => call('GET', '/v1/numbers?limit=50'));
  await measure('GET /v1/numbers/groups', () => call('GET', '/v1/numbers/groups'));
  await measure('GET /v1/numbers?q=8 (495) 200-1 (search)', () => call('GET', `/v1/numbers?limit=50&q=${encodeURIComponent('8 (495) 200-1')}`));
  await measure('GET /v1/numbers?poolId=…&limit=50', () => call('GET', `/v1/numbers?limit=50&poolId=${poolId}`));
  await measure('first screen (page + groups + pools, parallel)', () =>
    Promise.all([call('GET', '/v1/numbers?limit=50'), call('GET', '/v1/numbers/groups'), call('GET', '/v1/pools')]),
  );
} finally {
  await h.close();
}
process.exit(0);
