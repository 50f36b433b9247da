import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERRORS } from '../errors.js';
import { DialplanName, ErrorBody } from '../shared/schemas.js';
import type { DialplanRegistry } from './dialplan-registry.js';
import { Dialplan } from './dialplan.schemas.js';

const DialplanStatus = z.object({
  name: z.string(),
  file: z.string().meta({ description: 'The YAML file on the server' }),
  loadedAt: z.string().nullable().meta({ description: 'When the version in use was loaded; null if no version ever loaded' }),
  lastError: z
    .string()
    .nullable()
    .meta({ description: 'Why the current file content is not in use, with the path of the bad field (steps[1].forward.targets[0]: …)' }),
  lastErrorAt: z.string().nullable(),
  active: z.boolean().meta({ description: 'A good version is loaded and calls can use it' }),
  warnings: z.array(z.string()).meta({ description: 'Non-fatal problems such as missing prompt files' }),
});

/** Read-only view of the dialplans the server loaded from dialplans/*.yaml. */
export function dialplanRoutes({ dialplans }: { dialplans: Pick<DialplanRegistry, 'status' | 'get'> }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/dialplans',
      {
        schema: {
          tags: ['dialplans'],
          summary: 'Dialplan files with their load status (a broken file keeps its last good version active)',
          response: { 200: z.object({ items: z.array(DialplanStatus) }) },
        },
        config: { roles: ['admin', 'manager'] },
      },
      async () => ({ items: dialplans.status().sort((a, b) => a.name.localeCompare(b.name) || a.file.localeCompare(b.file)) }),
    );

    app.get(
      '/v1/dialplans/:name',
      {
        schema: {
          tags: ['dialplans'],
          summary: 'The parsed dialplan in use (defaults filled in)',
          params: z.object({ name: DialplanName }),
          response: { 200: Dialplan, 404: ErrorBody },
        },
        config: { roles: ['admin', 'manager'] },
      },
      async (request) => {
        const plan = dialplans.get(request.params.name);
        if (!plan) throw ERRORS.notFound('dialplan', request.params.name);
        return plan;
      },
    );
  };
}
