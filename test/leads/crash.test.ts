import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboxEventSink } from '../../server/leads/lead-events.js';
import { newWebhookSecret, startWebhookFake, type WebhookFake } from '../fakes/webhook-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { callRecord, completeCall, eventually, seed } from './lead-fixtures.js';

const root = path.resolve(import.meta.dirname, '../..');
let h: Harness;
let fake: WebhookFake;
const secret = newWebhookSecret();
const children: ChildProcess[] = [];

function startWorkerProcess(leaseMs: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/leads/worker-process.ts', JSON.stringify({ url: h.config.database.url, schema: h.schema, leaseMs, pollMs: 50, concurrency: 8 })],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited ${code}: ${err}`));
    });
  });
}

beforeAll(async () => {
  h = await createHarness();
  fake = await startWebhookFake(secret);
  // Only the webhook sink under test: the built-in analytics sink (migration 0021) would add its own deliveries.
  await h.db.query(`UPDATE lead_sinks SET enabled = false WHERE kind = 'analytics'`);
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fake?.close();
  await h?.close();
});

describe('a worker process killed mid-delivery', () => {
  it('loses no lead: the restarted worker delivers the rest, duplicates share their webhook-id', { timeout: 60_000 }, async () => {
    const s = await seed(h.db);
    await h.db.query(`INSERT INTO lead_sinks (account_id, kind, name, config, events) VALUES ($1, 'webhook', 'crash', $2, '{call.completed}')`, [
      '00000000-0000-0000-0000-000000000001',
      JSON.stringify({ url: fake.url, secret }),
    ]);
    const events = createOutboxEventSink({ db: h.db, logger: h.logger, payload: { publicBaseUrl: 'https://calls.example' } });
    const records = Array.from({ length: 40 }, () => callRecord(s));
    for (const r of records) await completeCall(h.db, events, r);

    // Each answer is held 400 ms, so the kill lands while requests are in flight.
    fake.setDelay(400);
    const first = await startWorkerProcess(2_000);
    await fake.waitFor((r) => r.length >= 10, 20_000);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const inFlight = await h.db.query(`SELECT count(*)::int AS n FROM lead_deliveries WHERE status = 'pending' AND locked_until IS NOT NULL`);
    expect(inFlight.rows[0].n).toBeGreaterThan(0);
    const before = fake.received.length;
    expect(before).toBeLessThan(records.length);

    fake.setDelay(0);
    await startWorkerProcess(2_000);
    await fake.waitFor((r) => records.every((rec) => r.some((m) => m.payload.call.id === rec.id)), 30_000);
    const { rows } = await eventually(async () => {
      const q = await h.db.query(`SELECT status, count(*)::int AS n FROM lead_deliveries GROUP BY status`);
      return q.rows.length === 1 && q.rows[0].status === 'delivered' ? q : undefined;
    }, 10_000);
    expect(rows).toEqual([{ status: 'delivered', n: records.length }]);
    const idsByCall = new Map<string, Set<string>>();
    for (const m of fake.received) idsByCall.set(m.payload.call.id, (idsByCall.get(m.payload.call.id) ?? new Set()).add(m.id));
    expect(idsByCall.size).toBe(records.length);
    for (const ids of idsByCall.values()) expect(ids.size).toBe(1);
    // The messages in flight at the kill were sent again (at-least-once), under the same id.
    expect(fake.received.length).toBeGreaterThan(records.length);
  });
});
