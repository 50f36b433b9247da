import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERRORS } from '../errors.js';
import { DialplanName, ErrorBody } from '../shared/schemas.js';
import type { Db } from '../db/pool.js';
import { principalOf } from '../http/auth.js';
import type { DialplanRegistry } from './dialplan-registry.js';
import { listStoredNames, type StoredDialplans } from './stored-dialplans.js';
import { Dialplan } from './dialplan.schemas.js';

const DialplanStatus = z.object({
  name: z.string(),
  source: z.enum(['file', 'stored']).meta({ description: 'a YAML file on the server (read-only here), or saved with POST /v1/dialplans' }),
  readOnly: z.boolean(),
  version: z.number().int().nullable().meta({ description: 'the saved version calls use (stored plans)' }),
  file: z.string().nullable().meta({ description: 'The YAML file on the server (null for stored plans)' }),
  loadedAt: z.string().nullable().meta({ description: 'When the version in use was loaded; null if no version ever loaded' }),
  lastError: z
    .string()
    .nullable()
    .meta({ description: 'Why the current file content is not in use, with the path of the bad field (steps[1].forward.targets[0]: …)' }),
  lastErrorAt: z.string().nullable(),
  active: z.boolean().meta({ description: 'A good version is loaded and calls can use it' }),
  warnings: z.array(z.string()).meta({ description: 'Non-fatal problems such as missing prompt files' }),
});

/** The dialplans an account can bind: YAML files the server loaded (read-only) and the ones it saved. */
export function dialplanRoutes({
  dialplans,
  stored,
  db,
}: {
  dialplans: Pick<DialplanRegistry, 'status' | 'get'>;
  stored?: Pick<StoredDialplans, 'get'>;
  db?: Db;
}): FastifyPluginAsyncZod {
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
      async (request) => {
        const files = dialplans.status().map((p) => ({ ...p, source: 'file' as const, readOnly: true, version: null }));
        const saved = db ? await listStoredNames(db, principalOf(request).accountId) : [];
        const storedItems = saved.map((p) => ({
          name: p.name,
          source: 'stored' as const,
          readOnly: false,
          version: p.version,
          file: null,
          loadedAt: p.updatedAt,
          lastError: null,
          lastErrorAt: null,
          active: true,
          warnings: [],
        }));
        return { items: [...files, ...storedItems].sort((a, b) => a.name.localeCompare(b.name) || a.source.localeCompare(b.source)) };
      },
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
        const plan = stored?.get(principalOf(request).accountId, request.params.name) ?? dialplans.get(request.params.name);
        if (!plan) throw ERRORS.notFound('dialplan', request.params.name);
        return plan;
      },
    );
  };
}
