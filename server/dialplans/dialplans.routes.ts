import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERRORS } from '../errors.js';
import type { DialplanRegistry } from './dialplan-registry.js';

const Status = z.object({ name: z.string(), file: z.string(), loadedAt: z.string().nullable(), lastError: z.string().nullable(), active: z.boolean() });

export function dialplanRoutes({ dialplans }: { dialplans: DialplanRegistry }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/v1/dialplans', {
      schema: { tags: ['dialplans'], summary: 'Loaded dialplans with their last load error (a broken file keeps its last good version active)', response: { 200: z.object({ items: z.array(Status) }) } },
      config: { roles: ['admin', 'manager'] },
    }, async () => ({ items: dialplans.status().map((s) => ({ ...s, active: dialplans.has(s.name) })) }));

    app.get('/v1/dialplans/:name', {
      schema: { tags: ['dialplans'], params: z.object({ name: z.string().max(64) }) },
      config: { roles: ['admin', 'manager'] },
    }, async (request) => {
      const plan = dialplans.get(request.params.name);
      if (!plan) throw ERRORS.notFound('dialplan', request.params.name);
      return plan;
    });
  };
}
