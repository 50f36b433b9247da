// Snippet workers (DNI_WORKERS): separate processes answering the snippet on DNI_PORT. Leases stay
// unique across them (one Redis), what they write behind reaches Postgres, and a worker killed
// outright is replaced while its siblings keep answering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnippetWorkers } from '../../server/dni/snippet-workers.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { startHarnessSnippetWorkers } from '../helpers/snippet-workers.js';
import { type Provisioned, provisionPool } from './fixtures.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
let h: Harness;
let workers: SnippetWorkers;
let port: number;
let pool: Provisioned;

beforeAll(async () => {
  h = await createHarness();
  const app = await h.buildApp();
  pool = await provisionPool(h, app, { size: 40, holdSeconds: 600, domains: ['shop.example'] });
  ({ workers, port } = await startHarnessSnippetWorkers(h, 2));
}, 40_000);
afterAll(async () => {
  await workers?.stop();
  await h?.close();
});

const create = (i: number) =>
  fetch(`http://127.0.0.1:${port}/v1/dni/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain', origin: 'https://shop.example', 'user-agent': UA, connection: 'close' },
    body: JSON.stringify({ siteKey: pool.siteKey, url: `https://shop.example/?utm_source=workers&i=${i}` }),
  });

describe('snippet workers', () => {
  it('serve the snippet from several processes with unique leases, and write the sessions behind', async () => {
    const script = await fetch(`http://127.0.0.1:${port}/dni.js`);
    expect(script.status).toBe(200);
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => create(i)));
    expect(replies.map((r) => r.status)).toEqual(Array(30).fill(200));
    const bodies = (await Promise.all(replies.map((r) => r.json()))) as Array<{ sessionId: string; number: string; tracking: boolean }>;
    expect(bodies.every((b) => b.tracking)).toBe(true);
    expect(new Set(bodies.map((b) => b.number)).size).toBe(30);
    for (const b of bodies) expect(pool.numbers).toContain(b.number);
    await expect
      .poll(
        async () =>
          (await h.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dni_sessions WHERE id = ANY($1)', [bodies.map((b) => b.sessionId)])).rows[0]!.n,
        {
          timeout: 10_000,
        },
      )
      .toBe(30);
    // Bad input gets the same clear 4xx as from the server's own port.
    const bad = await fetch(`http://127.0.0.1:${port}/v1/dni/sessions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{nope' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).message).toMatch(/JSON/);
  });

  it('replaces a worker that was killed, while the other keeps answering', async () => {
    expect(workers.alive()).toBe(2);
    const victim = (await import('node:cluster')).default.workers;
    const first = Object.values(victim ?? {})[0];
    first?.process.kill('SIGKILL');
    // Once it is gone (a request it had accepted dies with it), answers keep coming from the survivor, then from both again.
    await expect.poll(() => workers.alive(), { timeout: 5_000, interval: 20 }).toBe(1);
    for (let i = 0; i < 10; i++) expect((await create(100 + i)).status).toBe(200);
    await expect.poll(() => workers.alive(), { timeout: 15_000, interval: 200 }).toBe(2);
    expect((await create(200)).status).toBe(200);
  }, 30_000);
});
