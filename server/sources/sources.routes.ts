import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Db, withTransaction } from '../db/pool.js';
import type { DialplanCatalog } from '../dialplans/dialplan-catalog.js';
import { assertMayRoute } from '../dialplans/routing-permission.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { checkDialplan } from '../numbers/numbers.routes.js';
import { claimNumbers } from '../numbers/numbers.service.js';
import { IdParams } from '../shared/schemas.js';
import * as repo from './sources.repository.js';
import { CreateSourceBody, Source } from './sources.schemas.js';

export function sourceRoutes({ db, dialplans, onChange }: { db: Db; dialplans: DialplanCatalog; onChange?: () => void }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/sources',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'Create a static source (flyer, billboard, radio, ad channel) owning numbers',
          body: CreateSourceBody,
          response: { 201: Source },
        },
        config: { roles: ['admin', 'marketer'] },
      },
      async (request, reply) => {
        const { numbers, ...source } = request.body;
        assertMayRoute(request, source.dialplan);
        checkDialplan(dialplans, source.dialplan, principalOf(request).accountId);
        const accountId = principalOf(request).accountId;
        const created = await withTransaction(db, async (trx) => {
          const id = await repo.insertSource(trx, { accountId, ...source });
          await claimNumbers(trx, accountId, numbers, { sourceId: id });
          return (await repo.findSource(trx, accountId, id))!;
        });
        onChange?.();
        return reply.status(201).send(created);
      },
    );

    app.get(
      '/v1/sources',
      {
        schema: { tags: ['provisioning'], response: { 200: z.object({ items: z.array(Source) }) } },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: await repo.listSources(db, principalOf(request).accountId) }),
    );

    app.get(
      '/v1/sources/:id',
      {
        schema: { tags: ['provisioning'], params: IdParams, response: { 200: Source } },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const source = await repo.findSource(db, principalOf(request).accountId, request.params.id);
        if (!source) throw ERRORS.notFound('source', request.params.id);
        return source;
      },
    );
  };
}
