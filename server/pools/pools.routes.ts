import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Db, withTransaction } from '../db/pool.js';
import type { DialplanCatalog } from '../dialplans/dialplan-catalog.js';
import { ERRORS, PG_UNIQUE_VIOLATION, pgErrorCode } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { checkDialplan } from '../numbers/numbers.routes.js';
import { claimNumbers } from '../numbers/numbers.service.js';
import { IdParams } from '../shared/schemas.js';
import * as repo from './pools.repository.js';
import { CreatePoolBody, Pool } from './pools.schemas.js';

export function poolRoutes({ db, dialplans, onChange }: { db: Db; dialplans: DialplanCatalog; onChange?: () => void }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/pools',
      {
        schema: { tags: ['provisioning'], summary: 'Create a dynamic number pool for a site', body: CreatePoolBody, response: { 201: Pool } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        const { numbers, ...pool } = request.body;
        checkDialplan(dialplans, pool.dialplan, principalOf(request).accountId);
        const accountId = principalOf(request).accountId;
        const created = await withTransaction(db, async (trx) => {
          let id: string | undefined;
          try {
            id = await repo.insertPool(trx, { accountId, ...pool });
          } catch (err) {
            if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw ERRORS.conflict(`the site already has a pool named "${pool.name}"`);
            throw err;
          }
          if (!id) throw ERRORS.validation(`site ${pool.siteId} does not exist`);
          await claimNumbers(trx, accountId, numbers, { poolId: id });
          return (await repo.findPool(trx, accountId, id))!;
        });
        onChange?.();
        return reply.status(201).send(created);
      },
    );

    app.get(
      '/v1/pools',
      {
        schema: { tags: ['provisioning'], response: { 200: z.object({ items: z.array(Pool) }) } },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: await repo.listPools(db, principalOf(request).accountId) }),
    );

    app.get(
      '/v1/pools/:id',
      {
        schema: { tags: ['provisioning'], params: IdParams, response: { 200: Pool } },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const pool = await repo.findPool(db, principalOf(request).accountId, request.params.id);
        if (!pool) throw ERRORS.notFound('pool', request.params.id);
        return pool;
      },
    );
  };
}
