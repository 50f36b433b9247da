import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../server/db/pool.js';
import { createLeadService, type LeadService } from '../../server/leads/lead-service.js';
import { LeadPayload } from '../../server/leads/lead-payload.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { newWebhookSecret, startWebhookFake, type WebhookFake } from '../fakes/webhook-fake.js';
import { ACCOUNT, callRecord, completeCall, eventually, seed, type Seed, refOf, startOf } from './lead-fixtures.js';

let h: Harness;
let app: FastifyInstance;
let leads: LeadService;
let s: Seed;
const secret = newWebhookSecret();
let fake: WebhookFake;

beforeAll(async () => {
  h = await createHarness();
  s = await seed(h.db);
  fake = await startWebhookFake(secret);
  leads = createLeadService({
    db: h.db,
    logger: h.logger,
    publicBaseUrl: 'https://calls.example',
    allowedNetworks: h.config.sinks.allowedNetworks,
    workers: { pollMs: 50, scheduleMs: [0, 100, 200, 400], jitter: 0, leaseMs: 5_000, concurrency: 4 },
  });
  app = await h.buildApp({ overrides: { leads, callEvents: leads.eventSink } });
  await leads.startWorkers();
});
afterAll(async () => {
  await leads?.stopWorkers();
  await fake?.close();
  await h?.close();
});

async function addWebhook(url = fake.url, extra: object = {}): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/sinks', headers: h.adminHeaders, payload: { kind: 'webhook', config: { url, secret, ...extra } } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}
const deliveries = async (sinkId: string, query = '') =>
  (await app.inject({ method: 'GET', url: `/v1/sinks/${sinkId}/deliveries${query}`, headers: h.adminHeaders })).json().items as any[];

describe('sink administration', () => {
  it('validates configs, masks secrets and is admin-only', async () => {
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/sinks',
      headers: h.adminHeaders,
      payload: { kind: 'webhook', config: { url: fake.url, secret: 'plain' } },
    });
    expect(bad.statusCode).toBe(400);
    const unknown = await app.inject({ method: 'POST', url: '/v1/sinks', headers: h.adminHeaders, payload: { kind: 'fax', config: {} } });
    expect(unknown.statusCode).toBe(400);
    const viewer = await h.headersFor('viewer');
    expect((await app.inject({ method: 'GET', url: '/v1/sinks', headers: viewer })).statusCode).toBe(403);

    const created = await app.inject({
      method: 'POST',
      url: '/v1/sinks',
      headers: h.adminHeaders,
      payload: { kind: 'ga4', config: { measurementId: 'G-ABC123', apiSecret: 'sekret-value-1234' } },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.body).not.toContain('sekret-value-1234');
    expect(created.json().config.apiSecret).toBe('…1234');
    const list = await app.inject({ method: 'GET', url: '/v1/sinks', headers: h.adminHeaders });
    expect(list.body).not.toContain('sekret-value');
    const del = await app.inject({ method: 'DELETE', url: `/v1/sinks/${created.json().id}`, headers: h.adminHeaders });
    expect(del.statusCode).toBe(204);
  });
});

describe('webhook deliveries', () => {
  let sinkId: string;
  beforeAll(async () => {
    sinkId = await addWebhook();
  });
  afterAll(async () => {
    await app.inject({ method: 'POST', url: `/v1/sinks/${sinkId}/disable`, headers: h.adminHeaders });
  });

  it('delivers a completed call as a signed v1 lead with attribution', async () => {
    const record = callRecord(s);
    await completeCall(h.db, leads.eventSink, record);
    await fake.waitFor((r) => r.some((m) => m.payload.call.id === record.id));
    const msg = fake.received.find((m) => m.payload.call.id === record.id)!;
    const lead = LeadPayload.parse(msg.payload);
    expect(lead).toMatchObject({
      version: 1,
      type: 'call.completed',
      account_id: ACCOUNT,
      call: {
        caller_number: record.caller,
        tracking_number: s.trackingNumber,
        answered: true,
        talk_time: 42,
        ring_time: 5,
        duration: 47,
        first_call: true,
        status: 'answered',
      },
      attribution: {
        confidence: 'exact',
        overflow: false,
        source: 'Yandex Direct', // the static source's own name wins over the visit (the number proves it)
        source_channel: 'yandex',
        medium: 'cpc',
        campaign: 'spring-sale',
        utm_term: 'buy sofa',
        yclid: '1234567890',
        ga_client_id: '1234567890.1700000000',
        ym_client_id: '1700000000123456789',
        landing_page_url: 'https://shop.example/sofas?utm_source=yandex',
        referring_url: 'https://yandex.ru/',
        source_id: s.sourceId,
        source_cost: 15000,
      },
    });
    expect(fake.rejected).toEqual([]);
    const d = await eventually(async () => (await deliveries(sinkId, `?callId=${record.id}`)).find((x) => x.status !== 'pending'));
    expect(d).toMatchObject({ status: 'delivered', attempts: 1, idempotencyKey: msg.id, eventType: 'call.completed' });
  });

  it('does not deliver a call whose transaction rolled back', async () => {
    const record = callRecord(s);
    await expect(
      withTransaction(h.db, async (trx) => {
        const { insertCallRecord } = await import('../../server/calls/calls.repository.js');
        await insertCallRecord(trx, record);
        await leads.eventSink.callCompleted(trx, refOf(record));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const { rows } = await h.db.query('SELECT count(*)::int AS n FROM lead_events WHERE call_id = $1', [record.id]);
    expect(rows[0].n).toBe(0);
  });

  it('keeps the events of one call in order through failures, with one webhook-id per event', async () => {
    fake.failWith(500);
    const record = callRecord(s);
    leads.eventSink.callStarted(startOf(record));
    await leads.eventSink.drainStarted();
    await completeCall(h.db, leads.eventSink, record);
    await h.db.query(`INSERT INTO call_tags (call_id, tag) VALUES ($1, 'hot')`, [record.id]);
    await leads.eventSink.callModified(h.db, refOf(record), { field: 'tags' });
    // While the receiver fails, only the first event is tried; the later ones wait behind it.
    await eventually(async () => (await deliveries(sinkId, `?callId=${record.id}`)).find((d) => d.eventType === 'call.started' && d.attempts >= 2));
    const waiting = await deliveries(sinkId, `?callId=${record.id}`);
    expect(waiting.filter((d) => d.eventType !== 'call.started').every((d) => d.attempts === 0)).toBe(true);
    fake.failWith(undefined);
    await fake.waitFor((r) => r.filter((m) => m.payload.call.id === record.id).length >= 3);
    const types = fake.received.filter((m) => m.payload.call.id === record.id).map((m) => m.payload.type);
    expect(types).toEqual(['call.started', 'call.completed', 'call.modified']);
    const modified = fake.received.find((m) => m.payload.call.id === record.id && m.payload.type === 'call.modified')!;
    expect(modified.payload).toMatchObject({ change: { field: 'tags' }, call: { tags: ['hot'] } });
    const ds = await deliveries(sinkId, `?callId=${record.id}`);
    expect(ds.find((d) => d.eventType === 'call.started')).toMatchObject({ status: 'delivered', lastStatus: 204 });
    expect(ds.find((d) => d.eventType === 'call.started').attempts).toBeGreaterThanOrEqual(2);
  });

  it('honours Retry-After on 429', async () => {
    fake.failWith(429, { 'retry-after': '2' });
    const record = callRecord(s);
    await completeCall(h.db, leads.eventSink, record);
    const first = await eventually(async () => (await deliveries(sinkId, `?callId=${record.id}`)).find((d) => d.attempts === 1 && d.lastStatus === 429));
    const waitMs = Date.parse(first.nextAttemptAt) - Date.now();
    // The schedule alone would retry after 100 ms.
    expect(waitMs).toBeGreaterThan(1_000);
    fake.failWith(undefined);
    await fake.waitFor((r) => r.some((m) => m.payload.call.id === record.id), 5_000);
  });
});

describe('dead letters and replay', () => {
  it('dead-letters after the schedule, replays with the same idempotency key', async () => {
    const sinkId = await addWebhook();
    fake.failWith(500);
    const record = callRecord(s);
    await completeCall(h.db, leads.eventSink, record);
    const dead = await eventually(async () => (await deliveries(sinkId, `?callId=${record.id}`)).find((d) => d.status === 'dead'));
    expect(dead.attempts).toBe(4);
    expect(dead.lastError).toContain('HTTP 500');
    expect(dead.nextAttemptAt).toBeNull();
    fake.failWith(undefined);
    const res = await app.inject({ method: 'POST', url: `/v1/sinks/${sinkId}/deliveries/${dead.id}/replay`, headers: h.adminHeaders });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().replayed).toBe(1);
    await fake.waitFor((r) => r.some((m) => m.payload.call.id === record.id));
    expect(fake.received.find((m) => m.payload.call.id === record.id)!.id).toBe(dead.idempotencyKey);
    const again = await app.inject({ method: 'POST', url: `/v1/sinks/${sinkId}/deliveries/${dead.id}/replay`, headers: h.adminHeaders });
    expect(again.statusCode).toBe(409);
    await app.inject({ method: 'POST', url: `/v1/sinks/${sinkId}/disable`, headers: h.adminHeaders });
  });

  it('disables a webhook sink that answers 410 Gone', async () => {
    const sinkId = await addWebhook();
    fake.failWith(410);
    const record = callRecord(s);
    await completeCall(h.db, leads.eventSink, record);
    await eventually(async () => (await deliveries(sinkId, `?callId=${record.id}`)).find((d) => d.status === 'dead'));
    fake.failWith(undefined);
    const sink = (await app.inject({ method: 'GET', url: `/v1/sinks/${sinkId}`, headers: h.adminHeaders })).json();
    expect(sink).toMatchObject({ enabled: false });
    expect(sink.disabledReason).toContain('410');
    expect(sink.config.secret).toMatch(/^whsec_….{4}$/);
  });
});

describe('call.started', () => {
  it('never throws and survives a short Postgres outage by retrying in memory', async () => {
    const { startTcpProxy } = await import('../helpers/tcp-proxy.js');
    const { createDb } = await import('../../server/db/pool.js');
    const { createOutboxEventSink } = await import('../../server/leads/lead-events.js');
    const url = new URL(h.config.database.url);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    url.port = String(proxy.port);
    const flaky = createDb({ url: url.toString(), poolSize: 2, schema: h.schema });
    const sink = createOutboxEventSink({
      db: flaky,
      logger: h.logger,
      payload: { publicBaseUrl: 'x' },
      startedRetryMs: [200, 200, 200, 200, 200, 200, 200, 200, 200, 200],
    });
    proxy.cut();
    const started = startOf(callRecord(s));
    const callId = started.callId;
    expect(() => sink.callStarted(started)).not.toThrow();
    await new Promise((r) => setTimeout(r, 500));
    proxy.restore();
    await sink.drainStarted();
    const { rows } = await h.db.query(`SELECT type FROM lead_events WHERE call_id = $1`, [callId]);
    expect(rows).toEqual([{ type: 'call.started' }]);
    await flaky.end();
    await proxy.close();
  });
});
