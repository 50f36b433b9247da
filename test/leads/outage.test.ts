import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../server/db/pool.js';
import { createLeadService, type LeadService } from '../../server/leads/lead-service.js';
import { newWebhookSecret, startWebhookFake, type WebhookFake } from '../fakes/webhook-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { callRecord, completeCall, eventually, seed } from './lead-fixtures.js';

let h: Harness;
let fake: WebhookFake;
const secret = newWebhookSecret();
/** Two lead services on separate pools: two server processes sharing one database. */
const services: LeadService[] = [];
const pools: Db[] = [];

beforeAll(async () => {
  h = await createHarness();
  fake = await startWebhookFake(secret);
  // Only the webhook sink under test: the built-in analytics sink (migration 0021) would add its own deliveries.
  await h.db.query(`UPDATE lead_sinks SET enabled = false WHERE kind = 'analytics'`);
  for (let i = 0; i < 2; i++) {
    const db = createDb({ url: h.config.database.url, poolSize: 5, schema: h.schema });
    pools.push(db);
    services.push(
      createLeadService({
        db,
        logger: h.logger,
        publicBaseUrl: 'https://calls.example',
        allowedNetworks: h.config.sinks.allowedNetworks,
        workers: {
          pollMs: 50,
          scheduleMs: [0, 100, 200, 300, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400],
          jitter: 0.2,
          leaseMs: 5_000,
          concurrency: 6,
        },
      }),
    );
  }
});
afterAll(async () => {
  for (const s of services) await s.stopWorkers();
  for (const p of pools) await p.end();
  await fake?.close();
  await h?.close();
});

describe('webhook receiver outage', () => {
  it('delivers every lead after the receiver recovers; duplicates only under the same webhook-id', { timeout: 60_000 }, async () => {
    const s = await seed(h.db);
    const app = await h.buildApp({ overrides: { leads: services[0]! } });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/sinks',
      headers: h.adminHeaders,
      payload: { kind: 'webhook', config: { url: fake.url, secret, timeoutMs: 2_000 } },
    });
    expect(res.statusCode, res.body).toBe(201);
    for (const svc of services) await svc.startWorkers();

    fake.failWith(500);
    const records = Array.from({ length: 60 }, () => callRecord(s));
    // Calls complete on both "processes" while the receiver fails, then while it refuses connections.
    for (const [i, r] of records.slice(0, 30).entries()) await completeCall(pools[i % 2]!, services[i % 2]!.eventSink, r);
    await eventually(async () => (await h.db.query(`SELECT count(*)::int AS n FROM lead_deliveries WHERE last_status = 500`)).rows[0].n >= 10);
    await fake.down();
    for (const [i, r] of records.slice(30).entries()) await completeCall(pools[i % 2]!, services[i % 2]!.eventSink, r);
    await eventually(
      async () => (await h.db.query(`SELECT count(*)::int AS n FROM lead_deliveries WHERE last_error LIKE '%failed%' AND last_status IS NULL`)).rows[0].n >= 10,
    );
    expect(fake.received).toHaveLength(0);

    fake.failWith(undefined);
    await fake.up();
    await fake.waitFor((got) => records.every((r) => got.some((m) => m.payload.call.id === r.id)), 30_000);
    const callsById = new Map<string, Set<string>>();
    for (const m of fake.received) callsById.set(m.id, (callsById.get(m.id) ?? new Set()).add(m.payload.call.id));
    // One webhook-id per lead; a duplicate (if any) carries the same id and the same call.
    expect(callsById.size).toBe(records.length);
    for (const calls of callsById.values()) expect(calls.size).toBe(1);
    // The receiver has them all; the last results may still be on their way to the database.
    const { rows } = await eventually(async () => {
      const q = await h.db.query(`SELECT status, count(*)::int AS n FROM lead_deliveries GROUP BY status`);
      return q.rows.some((r) => r.status === 'pending') ? undefined : q;
    });
    expect(rows).toEqual([{ status: 'delivered', n: records.length }]);
    const attempts = await h.db.query('SELECT max(attempts)::int AS max FROM lead_deliveries');
    expect(attempts.rows[0].max).toBeGreaterThan(2);
  });

  it('two processes draining one backlog deliver each lead exactly once', { timeout: 60_000 }, async () => {
    const s = await seed(h.db);
    for (const svc of services) await svc.stopWorkers();
    fake.received.length = 0;
    // Answers take a moment, so both processes are busy at once and compete for the same rows.
    fake.setDelay(20);
    const records = Array.from({ length: 80 }, () => callRecord(s));
    for (const [i, r] of records.entries()) await completeCall(pools[i % 2]!, services[i % 2]!.eventSink, r);
    await Promise.all(services.map((svc) => svc.startWorkers()));
    await fake.waitFor((got) => records.every((r) => got.some((m) => m.payload.call.id === r.id)), 30_000);
    await new Promise((r) => setTimeout(r, 300));
    const ids = fake.received.filter((m) => records.some((r) => r.id === m.payload.call.id)).map((m) => m.id);
    expect(ids).toHaveLength(records.length);
    expect(new Set(ids).size).toBe(records.length);
    fake.setDelay(0);
  });
});
