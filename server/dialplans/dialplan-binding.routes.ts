import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Db, Queryable } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { checkDialplan } from '../numbers/numbers.routes.js';
import { IdParams } from '../shared/schemas.js';
import { type DialplanCatalog, DialplanBinding, DialplanBindingBody } from './dialplan-catalog.js';

type Setter = (db: Queryable, accountId: string, id: string, dialplan: string | null) => Promise<boolean>;

/**
 * `PUT /v1/{pools|sources|sites}/{id}/dialplan`: the same binding rule for every owner of numbers
 * (the most specific binding wins at call time: number, then pool or source, then site).
 */
export function dialplanBindingRoutes(
  deps: { db: Db; dialplans: DialplanCatalog; onChange?: (() => void) | undefined },
  owners: Array<{ collection: string; what: string; set: Setter }>,
): FastifyPluginAsyncZod {
  return async (app) => {
    for (const owner of owners) {
      app.put(
        `/v1/${owner.collection}/:id/dialplan`,
        {
          schema: {
            tags: ['provisioning'],
            summary: `Bind a dialplan to a ${owner.what}`,
            params: IdParams,
            body: DialplanBindingBody,
            response: { 200: DialplanBinding },
          },
          config: { roles: ['admin'] },
        },
        async (request) => {
          checkDialplan(deps.dialplans, request.body.dialplan, principalOf(request).accountId);
          if (!(await owner.set(deps.db, principalOf(request).accountId, request.params.id, request.body.dialplan)))
            throw ERRORS.notFound(owner.what, request.params.id);
          deps.onChange?.();
          return { dialplan: request.body.dialplan };
        },
      );
    }
  };
}
