import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let app: FastifyInstance;
beforeAll(async () => {
  h = await createHarness();
  app = await h.buildApp();
});
afterAll(() => h.close());

it('documents the DNI, attribution, usage and QR routes in the OpenAPI', async () => {
  const res = await app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  const paths = Object.keys(res.json().paths);
  for (const p of [
    '/dni.js',
    '/v1/dni/sessions',
    '/v1/dni/sessions/{sessionId}/keepalive',
    '/v1/attribution',
    '/v1/pools/{id}/usage',
    '/v1/sources/{id}/qr.svg',
    '/v1/sources/{id}/release',
  ]) {
    expect(paths).toContain(p);
  }
  expect(res.json().paths['/v1/dni/sessions'].post.security).toEqual([]);
});
