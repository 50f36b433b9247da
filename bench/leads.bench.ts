/**
 * Leads benchmark: call completion (the call-record transaction commits with its outbox row) →
 * worker → signed webhook received by a local receiver on loopback.
 *
 *   npm run bench:leads                         # ~20-40 s
 *   BENCH_LEAD_CALLS=500 BENCH_LEAD_RATE=100 BENCH_LEAD_BACKLOG=3000 npm run bench:leads
 *
 * Phase 1, latency: calls complete at a steady rate; for each, the time from the COMMIT being
 * acknowledged to the receiver getting the lead (p50/p95/p99/max). Workers wake on NOTIFY; the
 * poll interval is left at its 1 s default so the figure shows the NOTIFY path, not polling.
 * Phase 2, throughput: a backlog of completed calls is written with workers stopped, then one
 * worker process drains it; deliveries per second (each one a signed HTTP POST and two updates).
 */
import { performance } from 'node:perf_hooks';
// @ts-expect-error plain .mjs shared with the set-up script, no types
import { startPostgres } from '../infra/services.mjs';
import { createLeadService } from '../server/leads/lead-service.js';
import { newWebhookSecret, startWebhookFake } from '../test/fakes/webhook-fake.js';
import { createHarness } from '../test/helpers/harness.js';
import { callRecord, completeCall, seed } from '../test/leads/lead-fixtures.js';

const CALLS = Number(process.env.BENCH_LEAD_CALLS ?? 300);
const RATE = Number(process.env.BENCH_LEAD_RATE ?? 50);
const BACKLOG = Number(process.env.BENCH_LEAD_BACKLOG ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_LEAD_CONCURRENCY ?? 16);
const PHASE_TIMEOUT_MS = 60_000;
const say = (s: string) => process.stdout.write(`${s}\n`);
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  await startPostgres();
  const h = await createHarness();
  const secret = newWebhookSecret();
  const fake = await startWebhookFake(secret);
  try {
    const s = await seed(h.db);
    // Webhook deliveries only: the built-in analytics sink (migration 0021) is switched off for the figures.
    await h.db.query(`UPDATE lead_sinks SET enabled = false WHERE kind = 'analytics'`);
    await h.db.query(
      `INSERT INTO lead_sinks (account_id, kind, name, config, events) VALUES ('00000000-0000-0000-0000-000000000001', 'webhook', 'bench', $1, '{call.completed}')`,
      [JSON.stringify({ url: fake.url, secret })],
    );
    const leads = createLeadService({
      db: h.db,
      logger: h.logger,
      publicBaseUrl: 'http://127.0.0.1',
      allowedNetworks: h.config.sinks.allowedNetworks,
      workers: { concurrency: CONCURRENCY },
    });
    await leads.startWorkers();

    say(`phase 1: ${CALLS} calls at ${RATE}/s, latency from commit to the webhook receiver`);
    const committedAt = new Map<string, number>();
    const started = performance.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < CALLS; i++) {
      const due = started + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const record = callRecord(s);
      pending.push(
        completeCall(h.db, leads.eventSink, record).then(() => {
          committedAt.set(record.id, performance.now());
        }),
      );
    }
    await Promise.all(pending);
    await fake.waitFor((r) => r.length >= CALLS, PHASE_TIMEOUT_MS);
    const latencies = fake.received.map((m) => m.receivedAt - committedAt.get(m.payload.call.id)!).sort((a, b) => a - b);
    // A lead can reach the receiver before our COMMIT acknowledgement does (NOTIFY fires at commit).
    const early = latencies.filter((l) => l < 0).length;
    say(
      `  delivered ${fake.received.length}/${CALLS}; latency ms: p50 ${pct(latencies, 50).toFixed(1)}  p95 ${pct(latencies, 95).toFixed(1)}  p99 ${pct(latencies, 99).toFixed(1)}  max ${latencies.at(-1)!.toFixed(1)}${early ? `  (${early} arrived before the commit ack)` : ''}`,
    );

    await leads.stopWorkers();
    fake.received.length = 0;
    say(`phase 2: backlog of ${BACKLOG} completed calls, then one process (concurrency ${CONCURRENCY}) drains it`);
    for (let i = 0; i < BACKLOG; i += 50) {
      await Promise.all(Array.from({ length: Math.min(50, BACKLOG - i) }, () => completeCall(h.db, leads.eventSink, callRecord(s))));
    }
    const drain = createLeadService({
      db: h.db,
      logger: h.logger,
      publicBaseUrl: 'http://127.0.0.1',
      allowedNetworks: h.config.sinks.allowedNetworks,
      workers: { concurrency: CONCURRENCY },
    });
    const t0 = performance.now();
    await drain.startWorkers();
    await fake.waitFor((r) => r.length >= BACKLOG, PHASE_TIMEOUT_MS);
    const seconds = (performance.now() - t0) / 1000;
    await drain.stopWorkers();
    const { rows } = await h.db.query(`SELECT status, count(*)::int AS n FROM lead_deliveries GROUP BY status ORDER BY status`);
    say(
      `  ${BACKLOG} deliveries in ${seconds.toFixed(2)} s = ${(BACKLOG / seconds).toFixed(0)} deliveries/s; duplicates ${fake.received.length - BACKLOG}; rows ${rows.map((r) => `${r.status}=${r.n}`).join(' ')}`,
    );
  } finally {
    await fake.close();
    await h.close();
  }
}

const guard = setTimeout(() => {
  process.stderr.write('bench:leads timed out\n');
  process.exit(1);
}, 180_000);
guard.unref();
main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
