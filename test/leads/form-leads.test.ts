import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormLeadPayload } from '../../server/leads/lead-payload.js';
import { insertCall } from '../calls/fixtures.js';
import { type Provisioned, provisionPool } from '../dni/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { validateJsonSchema } from './json-schema-lite.js';

let h: Harness;
let app: FastifyInstance;
let site: Provisioned;
const ORIGIN = 'https://shop.example';

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
  site = await provisionPool(h, app, { size: 2, holdSeconds: 60 });
  const sink = await app.inject({
    method: 'POST',
    url: '/v1/sinks',
    headers: h.adminHeaders,
    payload: { kind: 'webhook', config: { url: 'http://127.0.0.1:9/hook', secret: `whsec_${Buffer.alloc(24, 1).toString('base64')}` } },
  });
  expect(sink.statusCode, sink.body).toBe(201);
});
afterAll(() => h.close());

const submit = (body: object, origin: string | undefined = ORIGIN) =>
  app.inject({ method: 'POST', url: '/v1/leads/forms', headers: origin ? { origin } : {}, payload: body });
const formCount = async () => (await h.db.query('SELECT count(*)::int AS n FROM form_leads')).rows[0].n as number;

describe('POST /v1/leads/forms', () => {
  it('stores the form with the session’s visit and puts form.submitted in the outbox for webhook sinks', async () => {
    const session = await app.inject({
      method: 'POST',
      url: '/v1/dni/sessions',
      headers: { origin: ORIGIN },
      payload: { siteKey: site.siteKey, url: `${ORIGIN}/?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=shoes` },
    });
    expect(session.statusCode, session.body).toBe(200);
    const res = await submit({
      siteKey: site.siteKey,
      sessionId: session.json().sessionId,
      fields: { name: 'Anna', phone: '+7 (495) 222-33-44', email: 'anna@example.com' },
      url: `${ORIGIN}/contacts`,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(res.json()).toMatchObject({ firstLead: true, linkedCallId: null });
    const {
      rows: [stored],
    } = await h.db.query('SELECT phone, name, email, visit, visitor_id, first_time FROM form_leads WHERE id = $1', [res.json().id]);
    expect(stored).toMatchObject({ phone: '+74952223344', name: 'Anna', email: 'anna@example.com', first_time: true });
    expect(stored.visit).toMatchObject({ source: 'google', medium: 'cpc', campaign: 'brand', keyword: 'shoes', utmSource: 'google' });
    expect(stored.visitor_id).toBeTruthy();

    const { rows: events } = await h.db.query(
      `SELECT e.type, e.payload, count(d.*)::int AS deliveries FROM lead_events e LEFT JOIN lead_deliveries d ON d.event_id = e.id WHERE e.call_id = $1 GROUP BY e.id`,
      [res.json().id],
    );
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe('form.submitted');
    expect(events[0].deliveries).toBe(1);
    const payload = FormLeadPayload.parse(events[0].payload);
    // What receivers are told: the documented webhook schema accepts it.
    const documented = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../server/leads/webhook-payload.schema.json'), 'utf8'));
    expect(validateJsonSchema(documented, events[0].payload)).toEqual([]);
    expect(payload.form).toMatchObject({ id: res.json().id, phone: '+74952223344', first_lead: true });
    expect(payload.attribution).toMatchObject({ utm_campaign: 'brand', source: 'google', session_id: session.json().sessionId, confidence: 'exact' });
  });

  it('links a form and a call from the same phone within a day as one lead', async () => {
    const callId = await insertCall(h.db, { startedAt: new Date(Date.now() - 3 * 3600_000).toISOString(), caller: '+74953334455' });
    const res = await submit({ siteKey: site.siteKey, fields: { phone: '+74953334455' }, url: `${ORIGIN}/` }, undefined);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ firstLead: false, linkedCallId: callId });
  });

  it('refuses another origin (403), an unknown site (404) and an empty form (400), storing nothing', async () => {
    const before = await formCount();
    expect((await submit({ siteKey: site.siteKey, fields: { phone: '+74952223344' }, url: `${ORIGIN}/` }, 'https://evil.example')).statusCode).toBe(403);
    expect((await submit({ siteKey: 'site_nope', fields: { phone: '+74952223344' }, url: `${ORIGIN}/` })).statusCode).toBe(404);
    expect((await submit({ siteKey: site.siteKey, fields: {}, url: `${ORIGIN}/` })).statusCode).toBe(400);
    expect(await formCount()).toBe(before);
  });
});
