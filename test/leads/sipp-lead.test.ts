import { emptyVisit } from '../../server/attribution/visit.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Attributor } from '../../server/attribution/attribution.types.js';
import { createLeadService, type LeadService } from '../../server/leads/lead-service.js';
import { startAmoCrmFake, type AmoCrmFake } from '../fakes/amocrm-fake.js';
import { startBitrix24Fake, type Bitrix24Fake } from '../fakes/bitrix24-fake.js';
import { startGa4Fake, type Ga4Fake } from '../fakes/ga4-fake.js';
import { startMetricaFake, type MetricaFake } from '../fakes/metrica-fake.js';
import { newWebhookSecret, startWebhookFake, type WebhookFake } from '../fakes/webhook-fake.js';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { eventually } from './lead-fixtures.js';

const CALLER_IP = '127.0.0.61';
const AGENT_IP = '127.0.0.62';
const NUMBER = '+74951239876';
const secret = newWebhookSecret();
let h: Harness;
let server: CallServer;
let leads: LeadService;
let agentPort: number;
const fakes = {} as { webhook: WebhookFake; amo: AmoCrmFake; bitrix: Bitrix24Fake; ga4: Ga4Fake; metrica: MetricaFake };

/** Stands in for attribution/: the visit that was shown this number. */
const attributor: Attributor = {
  attribute: async () => ({
    sessionId: '3f2c9a1e-8b7d-4c6e-9f10-2a3b4c5d6e7f',
    sourceId: null,
    confidence: 'exact',
    reason: 'lease held by the session',
    candidates: [],
    likelihood: 1,
    visitChain: [],
    visit: {
      ...emptyVisit(),
      source: 'google',
      medium: 'cpc',
      campaign: 'brand',
      utmSource: 'google',
      utmMedium: 'cpc',
      utmCampaign: 'brand',
      gclid: 'Cj0KCQ-test',
      gaClientId: '555666777.1760000000',
      ymClientId: '1760000000987654321',
      landingPage: 'https://shop.example/',
    },
    staticSource: null,
    overflow: false,
    previousCallId: null,
    firstTime: true,
    priorCalls: 0,
  }),
};

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  fakes.webhook = await startWebhookFake(secret);
  fakes.amo = await startAmoCrmFake('amo-sipp-token');
  fakes.bitrix = await startBitrix24Fake({ userId: 1, code: 'sippcode' });
  fakes.ga4 = await startGa4Fake();
  fakes.metrica = await startMetricaFake({ token: 'ym-sipp-token', counterId: 777 });
  leads = createLeadService({
    db: h.db,
    logger: h.logger,
    publicBaseUrl: 'https://calls.example',
    allowedNetworks: h.config.sinks.allowedNetworks,
    workers: { pollMs: 100, scheduleMs: [0, 200, 400, 800], jitter: 0 },
  });
  server = await startCallServer(h, {
    attributor,
    leads,
    dialplans: { sales: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } },
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'sales' });
  const app = server.app;
  const sinks = [
    { kind: 'webhook', config: { url: fakes.webhook.url, secret } },
    { kind: 'amocrm', config: { baseUrl: fakes.amo.url, token: 'amo-sipp-token' } },
    { kind: 'bitrix24', config: { webhookUrl: fakes.bitrix.webhookUrl, userId: 1 } },
    { kind: 'ga4', config: { measurementId: 'G-SIPP1', apiSecret: 'ga-sipp-secret', baseUrl: fakes.ga4.url } },
    { kind: 'metrica', config: { counterId: 777, token: 'ym-sipp-token', baseUrl: fakes.metrica.url } },
  ];
  for (const sink of sinks) {
    const res = await app.inject({ method: 'POST', url: '/v1/sinks', headers: h.adminHeaders, payload: sink });
    expect(res.statusCode, res.body).toBe(201);
  }
  await leads.startWorkers();
});
afterAll(async () => {
  await server?.stop();
  await leads?.stopWorkers();
  for (const f of Object.values(fakes)) await f?.close();
  await h?.close();
});

describe('a real call through SIPp', () => {
  it('reaches every sink: webhook (started, completed, recording), amoCRM, Bitrix24, GA4, Metrica, the built-in analytics store', {
    timeout: 60_000,
  }, async () => {
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, rtpEcho: true });
    const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tones-')), 1000, 2);
    const caller = await runSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      vars: { TONE: tone, TALK_MS: '2000' },
    });
    agent.stop();
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBER);
    expect(call.disposition).toBe('answered');

    const w = fakes.webhook;
    await w.waitFor((r) => r.some((m) => m.payload.type === 'call.recording_ready' && m.payload.call.id === call.id), 30_000);
    const mine = w.received.filter((m) => m.payload.call.id === call.id);
    expect(mine.map((m) => m.payload.type)).toEqual(['call.started', 'call.completed', 'call.recording_ready']);
    expect(w.rejected).toEqual([]);
    expect(mine[1]!.payload).toMatchObject({
      version: 1,
      call: {
        sip_call_id: call.sipCallId,
        caller_number: call.caller,
        tracking_number: NUMBER,
        answered: true,
        status: 'answered',
        agent: `sip:agent@${AGENT_IP}:${agentPort}`,
      },
      attribution: {
        confidence: 'exact',
        utm_source: 'google',
        gclid: 'Cj0KCQ-test',
        ga_client_id: '555666777.1760000000',
        landing_page_url: 'https://shop.example/',
      },
    });
    expect(mine[1]!.payload.call.talk_time).toBeGreaterThanOrEqual(1);
    expect(mine[2]!.payload.call.recording_url).toBe(`https://calls.example/v1/calls/${call.id}/recording`);

    await eventually(
      async () =>
        fakes.amo.calls.length === 1 && fakes.ga4.hits.length === 1 && fakes.metrica.uploads.length === 1 && fakes.bitrix.calls[0]?.records.length === 1,
      15_000,
    );
    expect(fakes.amo.contacts[0]!.phones).toEqual([call.caller]);
    expect(fakes.amo.calls[0]).toMatchObject({ phone: call.caller, direction: 'inbound', call_status: 4 });
    expect(fakes.bitrix.calls[0]).toMatchObject({
      params: { PHONE_NUMBER: call.caller, EXTERNAL_CALL_ID: call.id, LINE_NUMBER: NUMBER },
      finished: { STATUS_CODE: 200 },
    });
    expect(fakes.bitrix.calls[0]!.records[0]).toMatchObject({ RECORD_URL: `https://calls.example/v1/calls/${call.id}/recording` });
    expect(fakes.ga4.hits[0]).toMatchObject({ validationMessages: [], body: { client_id: '555666777.1760000000' } });
    expect(fakes.metrica.uploads[0]!.rows[0]).toMatchObject({ ClientId: '1760000000987654321', PhoneNumber: call.caller });
    const fact = await h.db.query('SELECT source, medium, campaign, answered, talk_seconds FROM call_facts WHERE call_id = $1', [call.id]);
    expect(fact.rows).toEqual([{ source: 'google', medium: 'cpc', campaign: 'brand', answered: true, talk_seconds: call.talkSeconds }]);
  });
});
