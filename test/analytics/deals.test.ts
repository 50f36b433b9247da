import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ACCOUNT, insertCall } from '../calls/fixtures.js';
import { type Bitrix24Fake, startBitrix24Fake } from '../fakes/bitrix24-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
let manager: { authorization: string };
let bitrix: Bitrix24Fake;
const calls: Record<string, string> = {};

/** A CRM sink that created lead `leadId` for `callId` (what our amoCRM / Bitrix24 sinks remember in progress). */
async function crmLeadOf(kind: 'amocrm' | 'bitrix24', callId: string, leadId: number, config: object = {}) {
  const {
    rows: [sink],
  } = await h.db.query<{ id: string }>(
    `INSERT INTO lead_sinks (account_id, kind, name, config, events) VALUES ($1, $2, $2, $3, '{call.completed}') RETURNING id`,
    [DEFAULT_ACCOUNT, kind, config],
  );
  const {
    rows: [event],
  } = await h.db.query<{ id: string }>(`INSERT INTO lead_events (account_id, call_id, type, payload) VALUES ($1, $2, 'call.completed', '{}') RETURNING id`, [
    DEFAULT_ACCOUNT,
    callId,
  ]);
  await h.db.query(`INSERT INTO lead_deliveries (event_id, sink_id, call_id, status, progress) VALUES ($1, $2, $3, 'delivered', $4)`, [
    event!.id,
    sink!.id,
    callId,
    { leadId },
  ]);
}

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  manager = await h.headersFor('manager');
  bitrix = await startBitrix24Fake({ userId: 1, code: 'secretcode' });
  calls.early = await insertCall(h.db, { startedAt: '2026-11-01T10:00:00Z', caller: '+74951110001', visit: { source: 'google', visitorId: 'v-1' } });
  calls.late = await insertCall(h.db, { startedAt: '2026-11-03T10:00:00Z', caller: '+74951110001', visit: { source: 'yandex', visitorId: 'v-2' } });
  calls.after = await insertCall(h.db, { startedAt: '2026-11-20T10:00:00Z', caller: '+74951110001' });
  calls.amo = await insertCall(h.db, { startedAt: '2026-11-04T10:00:00Z', caller: '+74951110002' });
  calls.bitrixLead = await insertCall(h.db, { startedAt: '2026-11-05T10:00:00Z', caller: '+74951110003' });
  await crmLeadOf('amocrm', calls.amo, 9001);
  await crmLeadOf('bitrix24', calls.bitrixLead, 55, { webhookUrl: bitrix.webhookUrl, userId: 1 });
});
afterAll(async () => {
  await bitrix.close();
  await h.close();
});

const convert = (body: object, headers = manager) => app.inject({ method: 'POST', url: '/v1/conversions', headers, payload: body });
const dealRows = async () =>
  (await h.db.query('SELECT origin, external_id, stage, revenue_minor, currency, call_id, phone FROM deals ORDER BY created_at')).rows;

describe('POST /v1/conversions', () => {
  it('links by callId, is idempotent on externalId and only moves stages forward', async () => {
    const first = await convert({ callId: calls.early, stage: 'lead', at: '2026-11-01T12:00:00Z', externalId: 'deal-1' });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ stage: 'lead', callId: calls.early, visitorId: 'v-1', phone: '+74951110001', created: true });
    const won = await convert({ callId: calls.early, stage: 'won', revenue: 1500.5, at: '2026-11-02T12:00:00Z', externalId: 'deal-1' });
    expect(won.statusCode).toBe(200);
    expect(won.json()).toMatchObject({
      id: first.json().id,
      stage: 'won',
      revenueMinor: 150050,
      currency: 'RUB',
      wonAt: '2026-11-02T12:00:00.000Z',
      created: false,
    });
    // A late "qualified" (retried webhook) does not undo the win.
    const late = await convert({ callId: calls.early, stage: 'qualified', at: '2026-11-01T13:00:00Z', externalId: 'deal-1' });
    expect(late.json()).toMatchObject({ stage: 'won', revenueMinor: 150050 });
    expect((await h.db.query(`SELECT count(*)::int AS n FROM deals WHERE external_id = 'deal-1'`)).rows[0].n).toBe(1);
  });

  it('links a phone to the latest call from that caller up to the deal, and a visitor to their call', async () => {
    const byPhone = await convert({
      phone: '+7 (495) 111-00-01',
      stage: 'won',
      revenue: '200',
      currency: 'usd',
      at: '2026-11-10T00:00:00Z',
      externalId: 'deal-2',
    });
    expect(byPhone.json()).toMatchObject({ callId: calls.late, phone: '+74951110001', revenueMinor: 20000, currency: 'USD' });
    const byVisitor = await convert({ visitorId: 'v-1', stage: 'qualified', at: '2026-11-10T00:00:00Z', externalId: 'deal-3' });
    expect(byVisitor.json()).toMatchObject({ callId: calls.early, visitorId: 'v-1' });
    const unknown = await convert({ visitorId: 'nobody', stage: 'lead', at: '2026-11-10T00:00:00Z', externalId: 'deal-4' });
    expect(unknown.json()).toMatchObject({ callId: null, visitorId: 'nobody' });
  });

  it('refuses bad input with 400 and an unknown call with 404, storing nothing', async () => {
    const before = await dealRows();
    expect((await convert({ stage: 'won', at: '2026-11-10T00:00:00Z', externalId: 'x' })).statusCode).toBe(400);
    expect((await convert({ phone: '+74951110001', stage: 'sold', at: '2026-11-10T00:00:00Z', externalId: 'x' })).statusCode).toBe(400);
    expect((await convert({ phone: '+74951110001', stage: 'won', revenue: 1.005, at: '2026-11-10T00:00:00Z', externalId: 'x' })).statusCode).toBe(400);
    expect((await convert({ callId: crypto.randomUUID(), stage: 'won', at: '2026-11-10T00:00:00Z', externalId: 'x' })).statusCode).toBe(404);
    expect((await convert({ phone: '+74951110001', stage: 'won', at: '2026-11-10T00:00:00Z', externalId: 'x' }, await h.headersFor('viewer'))).statusCode).toBe(
      403,
    );
    expect(await dealRows()).toEqual(before);
  });
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };

describe('POST /v1/crm/amocrm/{token}', () => {
  it('turns status webhooks into deals linked through the lead our sink created; a wrong token is 401', async () => {
    const setup = await app.inject({ method: 'POST', url: '/v1/crm/inbound/amocrm', headers: h.adminHeaders, payload: { qualifiedStatusIds: [555] } });
    expect(setup.statusCode).toBe(201);
    const { token, url } = setup.json();
    expect(url).toMatch(new RegExp(`/v1/crm/amocrm/${token}$`));
    const webhook = (path: string, fields: Record<string, string>) => app.inject({ method: 'POST', url: path, headers: formHeaders, payload: form(fields) });
    const won = {
      'leads[status][0][id]': '9001',
      'leads[status][0][status_id]': '142',
      'leads[status][0][pipeline_id]': '1',
      'leads[status][0][price]': '15000',
      'leads[status][0][last_modified]': '1794000000',
      'account[subdomain]': 'shop',
    };
    const before = await dealRows();
    const wrong = await webhook('/v1/crm/amocrm/not-the-token', won);
    expect(wrong.statusCode).toBe(401);
    expect(await dealRows()).toEqual(before);

    expect((await webhook(`/v1/crm/amocrm/${token}`, { 'leads[add][0][id]': '9001', 'leads[add][0][status_id]': '555' })).json()).toEqual({ deals: 1 });
    expect((await h.db.query(`SELECT stage, call_id FROM deals WHERE origin = 'amocrm'`)).rows).toEqual([{ stage: 'qualified', call_id: calls.amo }]);
    // Delivered twice, as amoCRM retries: still one deal.
    for (let i = 0; i < 2; i++) expect((await webhook(`/v1/crm/amocrm/${token}`, won)).statusCode).toBe(200);
    expect((await h.db.query(`SELECT stage, revenue_minor, currency, call_id, phone, won_at FROM deals WHERE origin = 'amocrm'`)).rows).toEqual([
      { stage: 'won', revenue_minor: 1500000, currency: 'RUB', call_id: calls.amo, phone: '+74951110002', won_at: new Date(1794000000 * 1000) },
    ]);
  });
});

describe('POST /v1/crm/bitrix24', () => {
  it('verifies the application token, reads the deal with crm.deal.get and links it', async () => {
    expect(
      (await app.inject({ method: 'PUT', url: '/v1/crm/inbound/bitrix24', headers: h.adminHeaders, payload: { applicationToken: 'b24-app-token-1' } }))
        .statusCode,
    ).toBe(200);
    bitrix.deals.set('77', {
      ID: '77',
      STAGE_ID: 'C1:WON',
      OPPORTUNITY: '2500.50',
      CURRENCY_ID: 'RUB',
      LEAD_ID: '55',
      CONTACT_ID: '0',
      DATE_MODIFY: '2026-11-06T10:00:00+03:00',
    });
    bitrix.deals.set('78', { ID: '78', STAGE_ID: 'NEW', OPPORTUNITY: '0.00', CURRENCY_ID: 'RUB', LEAD_ID: null, CONTACT_ID: '9' });
    bitrix.contacts.set('9', { ID: '9', PHONE: [{ VALUE: '+7 (495) 111-00-01', VALUE_TYPE: 'WORK' }] });
    const event = (id: string, token: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/crm/bitrix24',
        headers: formHeaders,
        payload: form({
          event: 'ONCRMDEALUPDATE',
          'data[FIELDS][ID]': id,
          ts: '1794000000',
          'auth[domain]': 'shop.bitrix24.ru',
          'auth[application_token]': token,
        }),
      });
    const before = await dealRows();
    expect((await event('77', 'wrong-token')).statusCode).toBe(401);
    expect(await dealRows()).toEqual(before);
    expect(bitrix.requests.filter((r) => r.path.endsWith('crm.deal.get.json'))).toHaveLength(0);

    expect((await event('77', 'b24-app-token-1')).json()).toEqual({ deals: 1 });
    expect((await event('78', 'b24-app-token-1')).json()).toEqual({ deals: 1 });
    const rows = (
      await h.db.query(`SELECT external_id, stage, revenue_minor, call_id, phone, won_at FROM deals WHERE origin = 'bitrix24' ORDER BY external_id`)
    ).rows;
    expect(rows).toEqual([
      { external_id: '77', stage: 'won', revenue_minor: 250050, call_id: calls.bitrixLead, phone: '+74951110003', won_at: new Date('2026-11-06T07:00:00Z') },
      // No lead of ours: linked by the contact's phone to that caller's latest call.
      { external_id: '78', stage: 'lead', revenue_minor: null, call_id: calls.after, phone: '+74951110001', won_at: null },
    ]);
  });
});
