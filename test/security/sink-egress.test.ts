/** SSRF through sinks: loopback, private and metadata addresses are refused at creation and at delivery. */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeadService, type LeadService } from '../../server/leads/lead-service.js';
import { insertSink } from '../../server/leads/leads.repository.js';
import { KIND_EVENTS } from '../../server/leads/leads.schemas.js';
import { failFor } from '../../server/leads/sinks/sink.js';
import { newWebhookSecret, startWebhookFake, type WebhookFake } from '../fakes/webhook-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { ACCOUNT, callRecord, completeCall, eventually, seed, type Seed } from '../leads/lead-fixtures.js';

let h: Harness;
let app: FastifyInstance;
let leads: LeadService;
let fake: WebhookFake;
let s: Seed;
const secret = newWebhookSecret();

beforeAll(async () => {
  // The production default: no networks opened (the harness opens loopback for the other tests).
  h = await createHarness({ SINK_ALLOWED_NETWORKS: '' });
  expect(h.config.sinks.allowedNetworks).toEqual([]);
  s = await seed(h.db);
  fake = await startWebhookFake(secret);
  leads = createLeadService({
    db: h.db,
    logger: h.logger,
    publicBaseUrl: 'https://calls.example',
    allowedNetworks: h.config.sinks.allowedNetworks,
    workers: { pollMs: 50, scheduleMs: [0, 100], jitter: 0, leaseMs: 5_000 },
  });
  app = await h.buildApp({ overrides: { leads } });
  await leads.startWorkers();
});
afterAll(async () => {
  await leads?.stopWorkers();
  await fake?.close();
  await h?.close();
});

const createSink = (kind: string, config: object) => app.inject({ method: 'POST', url: '/v1/sinks', headers: h.adminHeaders, payload: { kind, config } });

describe('sink egress', () => {
  it('refuses sinks aimed at loopback, metadata, private and IPv6-local addresses with a 400', async () => {
    const cases: Array<[string, object, string]> = [
      ['webhook', { url: 'http://127.0.0.1:9/hook', secret }, 'loopback'],
      ['webhook', { url: 'http://169.254.169.254/latest/meta-data/', secret }, 'link-local'],
      ['webhook', { url: 'http://localhost:9/hook', secret }, 'localhost resolves'],
      ['amocrm', { baseUrl: 'http://[::1]:8080', token: 'token-0123456789' }, 'config.baseUrl'],
      ['bitrix24', { webhookUrl: 'http://10.0.0.5/rest/1/abc', userId: 1 }, 'private'],
      ['ga4', { measurementId: 'G-ABC123', apiSecret: 'secret-123', baseUrl: 'http://[::ffff:192.168.0.1]' }, 'private'],
      ['metrica', { counterId: 1, token: 'token-0123456789', baseUrl: 'http://100.64.1.1' }, 'carrier-grade NAT'],
    ];
    for (const [kind, config, reason] of cases) {
      const res = await createSink(kind, config);
      expect(res.statusCode, `${kind} ${JSON.stringify(config)}`).toBe(400);
      expect(res.json().message).toContain(reason);
    }
    expect((await h.db.query("SELECT count(*)::int AS n FROM lead_sinks WHERE kind <> 'analytics'")).rows[0].n).toBe(0);
  });

  it('refuses at delivery a name that resolves to loopback, without sending anything', async () => {
    // As if the name had resolved to a public address when the sink was created (DNS rebinding).
    const sink = await insertSink(h.db, {
      accountId: ACCOUNT,
      kind: 'webhook',
      name: 'rebinding',
      config: { url: `${fake.url.replace('127.0.0.1', 'localhost')}/hook`, secret, timeoutMs: 2_000 },
      events: KIND_EVENTS.webhook,
    });
    leads.workers.wake();
    await completeCall(h.db, leads.eventSink, callRecord(s));
    const dead = await eventually(async () => {
      const { rows } = await h.db.query("SELECT status, last_error FROM lead_deliveries WHERE sink_id = $1 AND status = 'dead'", [sink.id]);
      return rows[0];
    });
    expect(dead.last_error).toMatch(/refused: localhost resolves to a refused address: 127\.0\.0\.1 is a loopback address/);
    expect(fake.received).toHaveLength(0);
    expect(fake.rejected).toHaveLength(0);
  });

  it('keeps the receiver’s response body out of the stored error', async () => {
    const res = new Response('<html>internal admin page, token=abc</html>', { status: 500, statusText: 'Internal Server Error' });
    const err = await failFor(res, 'webhook').catch((e: Error) => e);
    expect(err.message).toBe('webhook: HTTP 500 Internal Server Error');
  });
});
