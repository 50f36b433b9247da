import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeadService, type LeadService } from '../../server/leads/lead-service.js';
import { startAmoCrmFake } from '../fakes/amocrm-fake.js';
import { startBitrix24Fake } from '../fakes/bitrix24-fake.js';
import { startGa4Fake } from '../fakes/ga4-fake.js';
import { startMetricaFake } from '../fakes/metrica-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { ACCOUNT, callRecord, completeCall, eventually, seed, type Seed, refOf } from './lead-fixtures.js';

let h: Harness;
let app: FastifyInstance;
let leads: LeadService;
let s: Seed;

beforeAll(async () => {
  h = await createHarness();
  s = await seed(h.db);
  leads = createLeadService({
    db: h.db,
    logger: h.logger,
    publicBaseUrl: 'https://calls.example',
    allowedNetworks: h.config.sinks.allowedNetworks,
    workers: { pollMs: 50, scheduleMs: [0, 100, 200, 400, 800, 1_600], jitter: 0, leaseMs: 5_000 },
  });
  app = await h.buildApp({ overrides: { leads } });
  await leads.startWorkers();
});
afterAll(async () => {
  await leads?.stopWorkers();
  await h?.close();
});

async function addSink(kind: string, config: object): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/sinks', headers: h.adminHeaders, payload: { kind, config } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}
const disable = (id: string) => app.inject({ method: 'POST', url: `/v1/sinks/${id}/disable`, headers: h.adminHeaders });
async function settled(sinkId: string, callId: string): Promise<any[]> {
  return eventually(async () => {
    const items = (await app.inject({ method: 'GET', url: `/v1/sinks/${sinkId}/deliveries?callId=${callId}`, headers: h.adminHeaders })).json().items as any[];
    return items.length > 0 && items.every((d) => d.status !== 'pending') ? items : undefined;
  }, 15_000);
}

describe('amoCRM', () => {
  it('creates the contact and lead first, then adds the call; a repeat caller reuses the contact', async () => {
    const fake = await startAmoCrmFake('amo-long-lived-token');
    const sinkId = await addSink('amocrm', { baseUrl: fake.url, token: 'amo-long-lived-token', source: 'calltrack-test' });
    const first = callRecord(s);
    await completeCall(h.db, leads.eventSink, first);
    expect(await settled(sinkId, first.id)).toMatchObject([{ status: 'delivered' }]);
    expect(fake.leads).toHaveLength(1);
    expect(fake.contacts[0]!.phones).toEqual([first.caller]);
    expect(fake.calls).toMatchObject([
      { direction: 'inbound', duration: 42, source: 'calltrack-test', phone: first.caller, call_status: 4, contactId: fake.contacts[0]!.id },
    ]);

    const again = callRecord(s, { caller: first.caller, disposition: 'no-answer', answeredAt: null, talkSeconds: 0 });
    await completeCall(h.db, leads.eventSink, again);
    expect(await settled(sinkId, again.id)).toMatchObject([{ status: 'delivered' }]);
    expect(fake.leads).toHaveLength(1);
    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[1]).toMatchObject({ call_status: 3, duration: 0 });
    expect(fake.droppedCalls).toEqual([]);
    expect(fake.problems).toEqual([]);

    // The fake enforces the contract the sink is built around: an unknown phone's call is dropped.
    const direct = await fetch(`${fake.url}/api/v4/calls`, {
      method: 'POST',
      headers: { authorization: 'Bearer amo-long-lived-token' },
      body: JSON.stringify([{ direction: 'inbound', duration: 1, source: 'x', phone: '+74950000000' }]),
    });
    expect((await direct.json())._embedded.calls).toEqual([]);
    expect(fake.droppedCalls).toHaveLength(1);
    await disable(sinkId);
    await fake.close();
  });
});

describe('Bitrix24', () => {
  it('registers and finishes the call, then attaches the recording; rides out QUERY_LIMIT_EXCEEDED', async () => {
    const fake = await startBitrix24Fake({ userId: 7, code: 'abc123secret', bucket: 4, drainPerSecond: 4 });
    const sinkId = await addSink('bitrix24', { webhookUrl: fake.webhookUrl, userId: 7 });
    const calls = Array.from({ length: 4 }, () => callRecord(s));
    for (const c of calls) await completeCall(h.db, leads.eventSink, c);
    for (const c of calls) expect(await settled(sinkId, c.id)).toMatchObject([{ status: 'delivered' }]);
    expect(fake.errors.some((e) => e.error === 'QUERY_LIMIT_EXCEEDED')).toBe(true);
    expect(fake.calls).toHaveLength(4);
    for (const c of calls) {
      const b = fake.calls.find((x) => x.params.EXTERNAL_CALL_ID === c.id)!;
      expect(b.params).toMatchObject({ USER_ID: 7, PHONE_NUMBER: c.caller, TYPE: 2, LINE_NUMBER: s.trackingNumber });
      expect(b.finished).toMatchObject({ CALL_ID: b.callId, DURATION: 42, STATUS_CODE: 200 });
    }
    const target = calls[0]!;
    await h.db.query(`UPDATE calls SET recording_status = 'ready' WHERE id = $1`, [target.id]);
    await leads.eventSink.recordingReady(h.db, refOf(target));
    await eventually(async () => fake.calls.find((x) => x.params.EXTERNAL_CALL_ID === target.id)!.records.length > 0, 10_000);
    expect(fake.calls.find((x) => x.params.EXTERNAL_CALL_ID === target.id)!.records[0]).toMatchObject({
      FILENAME: `${target.id}.mp3`,
      RECORD_URL: `https://calls.example/v1/calls/${target.id}/recording`,
    });
    // The fake's documented quirks: same CALL_ID on a repeated register, a second finish fails.
    const b = fake.calls[0]!;
    // The fake limits requests per second like Bitrix24 does: ask again when this one was refused for that.
    const callPastLimit = (method: string, body: unknown) =>
      eventually(async () => {
        const res = await (await fetch(`${fake.webhookUrl}/${method}.json`, { method: 'POST', body: JSON.stringify(body) })).json();
        return res.error === 'QUERY_LIMIT_EXCEEDED' ? undefined : res;
      }, 5_000);
    const rr = await callPastLimit('telephony.externalcall.register', b.params);
    expect(rr.result.CALL_ID).toBe(b.callId);
    const ff = await callPastLimit('telephony.externalcall.finish', { CALL_ID: b.callId, USER_ID: 7, DURATION: 1 });
    expect(ff).toMatchObject({ error_description: 'Call is not found' });
    await disable(sinkId);
    await fake.close();
  });

  it('treats "Call is not found" after a finish whose reply was lost as finished', async () => {
    const fake = await startBitrix24Fake({ userId: 5, code: 'lostreply' });
    const sinkId = await addSink('bitrix24', { webhookUrl: fake.webhookUrl, userId: 5 });
    fake.loseReplyOnce.add('telephony.externalcall.finish');
    const c = callRecord(s);
    await completeCall(h.db, leads.eventSink, c);
    expect(await settled(sinkId, c.id)).toMatchObject([{ status: 'delivered', attempts: 2 }]);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.finished).toMatchObject({ DURATION: 42 });
    expect(fake.errors).toEqual([{ method: 'telephony.externalcall.finish', error: 'ERROR_NOT_FOUND' }]);
    await disable(sinkId);
    await fake.close();
  });

  it('adds a CRM lead once per call in lead mode', async () => {
    const fake = await startBitrix24Fake({ userId: 3, code: 'leadcode' });
    const sinkId = await addSink('bitrix24', { webhookUrl: fake.webhookUrl, userId: 3, mode: 'lead' });
    const c = callRecord(s);
    await completeCall(h.db, leads.eventSink, c);
    expect(await settled(sinkId, c.id)).toMatchObject([{ status: 'delivered' }]);
    expect(fake.leads).toMatchObject([
      { SOURCE_ID: 'CALL', ORIGIN_ID: c.id, PHONE: [{ VALUE: c.caller, VALUE_TYPE: 'WORK' }], UTM_SOURCE: 'yandex', UTM_CAMPAIGN: 'spring-sale' },
    ]);
    await disable(sinkId);
    await fake.close();
  });
});

describe('GA4', () => {
  it('sends one valid event with the session client id; skips calls without one', async () => {
    const fake = await startGa4Fake();
    const sinkId = await addSink('ga4', { measurementId: 'G-TEST123', apiSecret: 'ga-api-secret', baseUrl: fake.url });
    const c = callRecord(s);
    const anonymous = callRecord(s, { visit: null });
    await completeCall(h.db, leads.eventSink, c);
    await completeCall(h.db, leads.eventSink, anonymous);
    expect(await settled(sinkId, c.id)).toMatchObject([{ status: 'delivered', lastStatus: 204 }]);
    expect(await settled(sinkId, anonymous.id)).toMatchObject([{ status: 'skipped' }]);
    expect(fake.hits).toHaveLength(1);
    const hit = fake.hits[0]!;
    expect(hit.validationMessages).toEqual([]);
    expect(hit).toMatchObject({
      measurementId: 'G-TEST123',
      apiSecret: 'ga-api-secret',
      body: {
        client_id: '1234567890.1700000000',
        events: [{ name: 'phone_call', params: { call_id: c.id, answered: 1, source: 'Yandex Direct', medium: 'cpc' } }],
      },
    });
    await disable(sinkId);
    await fake.close();
  });
});

describe('Yandex Metrica', () => {
  it('uploads a CSV row with ClientId and DateTime; the fake rejects a row without them', async () => {
    const fake = await startMetricaFake({ token: 'ym-oauth-token', counterId: 4242 });
    const sinkId = await addSink('metrica', { counterId: 4242, token: 'ym-oauth-token', baseUrl: fake.url });
    const c = callRecord(s);
    await completeCall(h.db, leads.eventSink, c);
    expect(await settled(sinkId, c.id)).toMatchObject([{ status: 'delivered' }]);
    expect(fake.uploads).toHaveLength(1);
    expect(fake.uploads[0]!.rows).toEqual([
      expect.objectContaining({
        ClientId: '1700000000123456789',
        DateTime: String(Math.floor(Date.parse(c.startedAt) / 1000)),
        PhoneNumber: c.caller,
        TalkDuration: '42',
        CallMissed: '0',
        FirstTimeCaller: '1',
      }),
    ]);
    const form = new FormData();
    form.append('file', new Blob(['PhoneNumber,DateTime\n+74951234567,1700000000\n']), 'calls.csv');
    const bad = await fetch(`${fake.url}/management/v1/counter/4242/offline_conversions/upload_calls`, {
      method: 'POST',
      headers: { authorization: 'OAuth ym-oauth-token' },
      body: form,
    });
    expect(bad.status).toBe(400);
    expect(fake.rejections[0]).toContain('ClientId');
    await disable(sinkId);
    await fake.close();
  });
});

describe('internal analytics store', () => {
  it('is on by default and writes one fact row per completed call, following later changes', async () => {
    const list = (await app.inject({ method: 'GET', url: '/v1/sinks', headers: h.adminHeaders })).json().items as any[];
    const builtIn = list.filter((x) => x.kind === 'analytics');
    expect(builtIn).toMatchObject([{ enabled: true, events: ['call.completed', 'call.modified'] }]);
    const sinkId = builtIn[0].id as string;
    const c = callRecord(s);
    await completeCall(h.db, leads.eventSink, c);
    await settled(sinkId, c.id);
    await h.db.query(`UPDATE calls SET value = 990 WHERE id = $1`, [c.id]);
    await leads.eventSink.callModified(h.db, refOf(c), { field: 'value' });
    await eventually(async () => (await h.db.query('SELECT value FROM call_facts WHERE call_id = $1', [c.id])).rows[0]?.value === 990);
    const { rows } = await h.db.query('SELECT * FROM call_facts WHERE call_id = $1', [c.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      account_id: ACCOUNT,
      source_id: s.sourceId,
      source: 'Yandex Direct',
      medium: 'cpc',
      campaign: 'spring-sale',
      answered: true,
      talk_seconds: 42,
      first_time: true,
      disposition: 'answered',
      source_cost: 15000,
      source_currency: 'RUB',
      confidence: 'exact',
    });
    expect(rows[0].day.toISOString().slice(0, 10)).toBe(c.startedAt.slice(0, 10));
    await disable(sinkId);
  });
});
