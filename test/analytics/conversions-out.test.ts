import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeadService, type LeadService } from '../../server/leads/lead-service.js';
import { insertCall } from '../calls/fixtures.js';
import { type ConversionsFake, startConversionsFake } from '../fakes/conversions-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
let leads: LeadService;
let fake: ConversionsFake;
const sinks: Record<string, string> = {};

beforeAll(async () => {
  h = await createHarness();
  leads = createLeadService({
    db: h.db,
    logger: h.logger,
    publicBaseUrl: 'https://calls.example',
    allowedNetworks: h.config.sinks.allowedNetworks,
    workers: { pollMs: 50, scheduleMs: [0, 100, 200], jitter: 0, leaseMs: 5_000 },
  });
  app = await h.buildApp({ overrides: { leads } });
  await leads.startWorkers();
  fake = await startConversionsFake({ googleToken: 'google-oauth-token', accountId: '1234567890', metricaToken: 'metrica-oauth-token', counterId: 4242 });
  for (const [kind, config] of [
    ['google_ads', { accountId: '1234567890', conversionActionId: '777', token: 'google-oauth-token', baseUrl: fake.url }],
    ['metrica_offline', { counterId: 4242, token: 'metrica-oauth-token', target: 'deal_won', baseUrl: fake.url }],
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/v1/sinks', headers: h.adminHeaders, payload: { kind, config } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().events).toEqual(['deal.won']);
    sinks[kind] = res.json().id;
  }
});
afterAll(async () => {
  await leads?.stopWorkers();
  await fake?.close();
  await h?.close();
});

const deliveries = async (kind: string) =>
  (await app.inject({ method: 'GET', url: `/v1/sinks/${sinks[kind]}/deliveries`, headers: h.adminHeaders })).json().items as any[];
async function settled(count: number) {
  for (let i = 0; i < 100; i++) {
    const all = [...(await deliveries('google_ads')), ...(await deliveries('metrica_offline'))];
    if (all.length >= count && all.every((d) => d.status !== 'pending')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('deliveries did not settle');
}

describe('conversions out when a deal is won', () => {
  it('a won amoCRM deal delivered twice yields exactly one Google Ads and one Metrica conversion', async () => {
    const callId = await insertCall(h.db, {
      startedAt: '2026-11-03T10:00:00Z',
      caller: '+74951234567',
      sessionId: crypto.randomUUID(),
      visit: { source: 'google', medium: 'cpc', gclid: 'CjwKCAgclid', ymClientId: '1700000000123456789', visitorId: 'v-9' },
    });
    // Our amoCRM sink created lead 501 for that call.
    const {
      rows: [sink],
    } = await h.db.query<{ id: string }>(
      `INSERT INTO lead_sinks (account_id, kind, name, config, events, enabled) VALUES ($1, 'amocrm', 'amo', '{}', '{}', false) RETURNING id`,
      ['00000000-0000-0000-0000-000000000001'],
    );
    const {
      rows: [event],
    } = await h.db.query<{ id: string }>(`INSERT INTO lead_events (account_id, call_id, type, payload) VALUES ($1, $2, 'call.completed', '{}') RETURNING id`, [
      '00000000-0000-0000-0000-000000000001',
      callId,
    ]);
    await h.db.query(`INSERT INTO lead_deliveries (event_id, sink_id, call_id, status, progress) VALUES ($1, $2, $3, 'delivered', '{"leadId": 501}')`, [
      event!.id,
      sink!.id,
      callId,
    ]);
    const setup = await app.inject({ method: 'POST', url: '/v1/crm/inbound/amocrm', headers: h.adminHeaders, payload: {} });
    const won = new URLSearchParams({
      'leads[status][0][id]': '501',
      'leads[status][0][status_id]': '142',
      'leads[status][0][price]': '15000',
      'leads[status][0][last_modified]': '1794000000',
    }).toString();
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({
        method: 'POST',
        url: `/v1/crm/amocrm/${setup.json().token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: won,
      });
      expect(res.statusCode).toBe(200);
    }
    await settled(2);
    expect(fake.refusals).toEqual([]);
    expect(fake.google).toHaveLength(1);
    expect(fake.google[0]).toMatchObject({
      eventTimestamp: new Date(1794000000 * 1000).toISOString(),
      eventSource: 'PHONE',
      adIdentifiers: { gclid: 'CjwKCAgclid' },
      conversionValue: 15000,
      currency: 'RUB',
      userData: { userIdentifiers: [{ phoneNumber: crypto.createHash('sha256').update('+74951234567').digest('hex') }] },
    });
    expect(fake.metrica).toEqual([
      { idType: 'CLIENT_ID', row: { ClientId: '1700000000123456789', Target: 'deal_won', DateTime: '1794000000', Price: '15000.00', Currency: 'RUB' } },
    ]);
    expect((await deliveries('google_ads')).map((d) => d.status)).toEqual(['delivered']);
  });

  it('reports a deal that can never match as skipped in the delivery log', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/conversions',
      headers: h.adminHeaders,
      payload: { visitorId: 'nobody-known', stage: 'won', revenue: 10, at: '2026-11-20T10:00:00Z', externalId: 'no-click' },
    });
    expect(res.statusCode).toBe(201);
    await settled(4);
    const skipped = (await deliveries('metrica_offline')).find((d) => d.status === 'skipped');
    expect(skipped?.lastError).toMatch(/can never match/);
    expect((await deliveries('google_ads')).find((d) => d.status === 'skipped')?.lastError).toMatch(/can never match/);
    expect(fake.google).toHaveLength(1);
  });
});
