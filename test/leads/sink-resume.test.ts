// A receiver back from an outage gets its backlog at once, not over the retry schedule: the first
// delivery it takes again brings the sink's waiting retries forward.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLeadService, type LeadService } from '../../server/leads/lead-service.js';
import { newWebhookSecret, startWebhookFake, type WebhookFake } from '../fakes/webhook-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { callRecord, completeCall, seed } from './lead-fixtures.js';

let h: Harness;
let fake: WebhookFake;
let leads: LeadService;
const secret = newWebhookSecret();

beforeAll(async () => {
  h = await createHarness();
  fake = await startWebhookFake(secret);
  await h.db.query(`UPDATE lead_sinks SET enabled = false WHERE kind = 'analytics'`);
  leads = createLeadService({
    db: h.db,
    logger: h.logger,
    publicBaseUrl: 'https://calls.example',
    allowedNetworks: h.config.sinks.allowedNetworks,
    // A retry a minute after a failure: without bringing the backlog forward it would wait that long.
    workers: { pollMs: 50, scheduleMs: [0, 60_000, 60_000, 60_000, 60_000], jitter: 0, leaseMs: 5_000, concurrency: 6 },
  });
});
afterAll(async () => {
  await leads?.stopWorkers();
  await fake?.close();
  await h?.close();
});

it('delivers the backlog within seconds of the first delivery the receiver takes again', { timeout: 30_000 }, async () => {
  const s = await seed(h.db);
  const app = await h.buildApp({ overrides: { leads } });
  const sink = await app.inject({ method: 'POST', url: '/v1/sinks', headers: h.adminHeaders, payload: { kind: 'webhook', config: { url: fake.url, secret } } });
  expect(sink.statusCode, sink.body).toBe(201);
  await leads.startWorkers();
  fake.failWith(503);
  const backlog = Array.from({ length: 20 }, () => callRecord(s));
  for (const r of backlog) await completeCall(h.db, leads.eventSink, r);
  // Every delivery failed once and waits a minute.
  await expect
    .poll(async () => (await h.db.query(`SELECT count(*)::int AS n FROM lead_deliveries WHERE last_status = 503 AND next_attempt_at > now()`)).rows[0].n, {
      timeout: 10_000,
    })
    .toBe(backlog.length);
  fake.failWith(undefined);
  const fresh = callRecord(s);
  await completeCall(h.db, leads.eventSink, fresh);
  await fake.waitFor((got) => [...backlog, fresh].every((r) => got.some((m) => m.payload.call.id === r.id)), 10_000);
});
