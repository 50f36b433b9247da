import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAuth } from '../http/auth.js';
import { installErrorHandler } from '../http/error-handler.js';
import { Role } from '../shared/schemas.js';
import type { DialplanStatus } from './dialplan-registry.js';
import { parseDialplan } from './dialplan.schemas.js';
import { dialplanRoutes } from './dialplans.routes.js';

// No database: the role comes from a test header through the same auth hook the app installs.
const parsed = parseDialplan({
  name: 'ivr',
  steps: [{ menu: { prompt: 'm.wav', options: { 1: [{ forward: { targets: ['sip:a@h'] } }] }, default: [{ hangup: {} }] } }],
});
if (!parsed.ok) throw new Error(parsed.error);
const statuses: DialplanStatus[] = [
  {
    name: 'sales',
    file: '/x/sales.yaml',
    loadedAt: '2026-11-22T10:00:00.000Z',
    lastError: 'steps[1].forward.targets[0]: not a target',
    lastErrorAt: '2026-11-22T11:00:00.000Z',
    active: true,
    warnings: [],
  },
  {
    name: 'ivr',
    file: '/x/ivr.yaml',
    loadedAt: '2026-11-22T10:00:00.000Z',
    lastError: null,
    lastErrorAt: null,
    active: true,
    warnings: ['prompt file m.wav not found'],
  },
];
let app: FastifyInstance;

beforeAll(async () => {
  app = Fastify();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);
  await app.register(swagger, { openapi: { info: { title: 't', version: '1' } }, transform: jsonSchemaTransform, transformObject: jsonSchemaTransformObject });
  installAuth(app, [
    async (request) => {
      const role = Role.safeParse(request.headers['x-test-role']);
      return role.success ? { accountId: '00000000-0000-0000-0000-000000000001', role: role.data, name: 'test' } : undefined;
    },
  ]);
  await app.register(dialplanRoutes({ dialplans: { status: () => [...statuses], get: (name) => (name === 'ivr' ? parsed.plan : undefined) } }));
  await app.ready();
});
afterAll(async () => app?.close());

const as = (role: string) => ({ 'x-test-role': role });

describe('dialplan routes', () => {
  it('lists every file with its last load error, sorted by name, for admins and managers', async () => {
    for (const role of ['admin', 'manager']) {
      const res = await app.inject({ url: '/v1/dialplans', headers: as(role) });
      expect(res.statusCode).toBe(200);
      expect(res.json().items.map((s: DialplanStatus) => s.name)).toEqual(['ivr', 'sales']);
      expect(res.json().items[1]).toEqual({ ...statuses[0], source: 'file', readOnly: true, version: null });
    }
  });

  it('refuses other roles and anonymous callers', async () => {
    expect((await app.inject({ url: '/v1/dialplans', headers: as('marketer') })).statusCode).toBe(403);
    expect((await app.inject({ url: '/v1/dialplans/ivr', headers: as('viewer') })).statusCode).toBe(403);
    expect((await app.inject({ url: '/v1/dialplans' })).statusCode).toBe(401);
  });

  it('returns the parsed plan with defaults, 404 for an unknown one, 400 for a bad name', async () => {
    const res = await app.inject({ url: '/v1/dialplans/ivr', headers: as('manager') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      name: 'ivr',
      record: true,
      steps: [
        {
          menu: {
            prompt: 'm.wav',
            timeoutSeconds: 5,
            retries: 1,
            options: { 1: [{ forward: { targets: ['sip:a@h'], strategy: 'simultaneous', ringSeconds: 20 } }] },
            default: [{ hangup: {} }],
          },
        },
      ],
    });
    const missing = await app.inject({ url: '/v1/dialplans/nope', headers: as('admin') });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'not_found', message: 'dialplan nope not found' });
    expect((await app.inject({ url: '/v1/dialplans/..%2Fetc', headers: as('admin') })).statusCode).toBe(400);
  });

  it('documents the recursive plan schema in OpenAPI', () => {
    const doc = app.swagger() as {
      paths: Record<string, { get: { responses: Record<string, { content: Record<string, { schema: unknown }> }> } }>;
      components: { schemas: Record<string, unknown> };
    };
    const plan = JSON.stringify(doc.paths['/v1/dialplans/{name}']!.get.responses['200']!.content['application/json']!.schema);
    expect(plan).toContain('#/components/schemas/DialplanStep');
    const step = JSON.stringify(doc.components.schemas['DialplanStep']);
    for (const word of ['announce', 'forward', 'round-robin', 'menu', 'hours', 'voicemail', 'hangup']) expect(step).toContain(word);
  });
});
