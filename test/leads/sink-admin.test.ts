// Editing a sink and sending it a test lead: what the Integrations page does before real leads depend on it.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newWebhookSecret, startWebhookFake } from '../fakes/webhook-fake.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;

beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
});
afterAll(async () => {
  await h?.close();
});

it('edits a webhook sink (secret kept unless given) and sends a signed test lead to it', async () => {
  const secret = newWebhookSecret();
  const fake = await startWebhookFake(secret);
  try {
    const created = await app.inject({
      method: 'POST',
      url: '/v1/sinks',
      headers: h.adminHeaders,
      payload: { kind: 'webhook', name: 'crm', config: { url: `${fake.url}/old`, secret } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;

    const renamed = await app.inject({
      method: 'PATCH',
      url: `/v1/sinks/${id}`,
      headers: h.adminHeaders,
      payload: { name: 'CRM (prod)', config: { url: `${fake.url}/hooks`, events: ['call.completed'] } },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'CRM (prod)', events: ['call.completed'], config: { url: `${fake.url}/hooks` } });
    expect(renamed.json().config.secret).not.toBe(secret);

    const test = await app.inject({ method: 'POST', url: `/v1/sinks/${id}/test`, headers: h.adminHeaders });
    expect(test.statusCode, test.body).toBe(200);
    expect(test.json()).toMatchObject({ outcome: 'delivered' });
    // The fake checks the signature with the secret given at creation: PATCH kept it.
    expect(fake.rejected).toEqual([]);
    expect(fake.received).toHaveLength(1);
    expect(fake.received[0]!.payload).toMatchObject({ type: 'call.completed', call: { caller_number: '+70000000000', tags: ['test'] } });
    // Straight to the sink: no delivery is queued for a made-up call.
    const deliveries = await app.inject({ method: 'GET', url: `/v1/sinks/${id}/deliveries`, headers: h.adminHeaders });
    expect(deliveries.json().items).toEqual([]);

    fake.failWith(500);
    const failed = await app.inject({ method: 'POST', url: `/v1/sinks/${id}/test`, headers: h.adminHeaders });
    expect(failed.json()).toMatchObject({ outcome: 'failed', httpStatus: 500 });
  } finally {
    await fake.close();
  }
});

it('refuses a bad edit with the field named, and keeps the stored sink', async () => {
  const created = await app.inject({
    method: 'POST',
    url: '/v1/sinks',
    headers: h.adminHeaders,
    payload: { kind: 'webhook', name: 'keep', config: { url: 'https://hooks.example/a', secret: newWebhookSecret() } },
  });
  const id = created.json().id;
  for (const payload of [{ config: { url: 'ftp://nope' } }, { config: { timeoutMs: 5 } }, { config: { surprise: true } }, { name: '' }]) {
    const res = await app.inject({ method: 'PATCH', url: `/v1/sinks/${id}`, headers: h.adminHeaders, payload });
    expect(res.statusCode, JSON.stringify(payload)).toBe(400);
  }
  const bad = await app.inject({ method: 'PATCH', url: `/v1/sinks/${id}`, headers: h.adminHeaders, payload: { config: { timeoutMs: 5 } } });
  expect(bad.json().message).toMatch(/config\.timeoutMs/);
  const stored = await app.inject({ method: 'GET', url: `/v1/sinks/${id}`, headers: h.adminHeaders });
  expect(stored.json()).toMatchObject({ name: 'keep', config: { url: 'https://hooks.example/a' } });

  const manager = await h.headersFor('manager');
  expect((await app.inject({ method: 'PATCH', url: `/v1/sinks/${id}`, headers: manager, payload: { name: 'x' } })).statusCode).toBe(403);
  expect((await app.inject({ method: 'POST', url: `/v1/sinks/${id}/test`, headers: manager })).statusCode).toBe(403);
});

it('has no test call for sinks that only take won deals', async () => {
  const created = await app.inject({
    method: 'POST',
    url: '/v1/sinks',
    headers: h.adminHeaders,
    payload: { kind: 'metrica_offline', config: { counterId: 1, token: 'oauth-token-123', target: 'won' } },
  });
  expect(created.statusCode, created.body).toBe(201);
  const res = await app.inject({ method: 'POST', url: `/v1/sinks/${created.json().id}/test`, headers: h.adminHeaders });
  expect(res.statusCode).toBe(400);
  expect(res.json().message).toMatch(/deal\.won/);
});
