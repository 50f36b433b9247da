import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import * as repo from './spam.repository.js';
import { CallerBlock, CreateBlockBody, SpamPolicy } from './spam.schemas.js';

const WRITERS = ['admin', 'manager'] as const;

/** Block lists and the spam-screening policy of the account; the SIP edge reloads them on change. */
export function spamRoutes({ db, onChange }: { db: Db; onChange: () => void }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/spam/blocks',
      { schema: { tags: ['spam'], summary: 'Blocked callers', response: { 200: z.object({ items: z.array(CallerBlock) }) } }, config: { roles: WRITERS } },
      async (request) => ({ items: await repo.listBlocks(db, principalOf(request).accountId) }),
    );

    app.post(
      '/v1/spam/blocks',
      {
        schema: {
          tags: ['spam'],
          summary: 'Block a number, a prefix (+7800*) or anonymous callers: 403, or a polite goodbye',
          body: CreateBlockBody,
          response: { 201: CallerBlock },
        },
        config: { roles: WRITERS },
      },
      async (request, reply) => {
        const block = await repo.insertBlock(db, principalOf(request).accountId, request.body);
        onChange();
        return reply.status(201).send(block);
      },
    );

    app.delete(
      '/v1/spam/blocks/:id',
      { schema: { tags: ['spam'], summary: 'Unblock', params: IdParams, response: { 204: z.null() } }, config: { roles: WRITERS } },
      async (request, reply) => {
        if (!(await repo.deleteBlock(db, principalOf(request).accountId, request.params.id))) throw ERRORS.notFound('block', request.params.id);
        onChange();
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/v1/spam/policy',
      { schema: { tags: ['spam'], summary: 'How suspicious callers are flagged and gated', response: { 200: SpamPolicy } }, config: { roles: WRITERS } },
      async (request) => repo.findPolicy(db, principalOf(request).accountId),
    );

    app.put(
      '/v1/spam/policy',
      { schema: { tags: ['spam'], summary: 'Set the spam policy', body: SpamPolicy, response: { 200: SpamPolicy } }, config: { roles: WRITERS } },
      async (request) => {
        const policy = await repo.upsertPolicy(db, principalOf(request).accountId, request.body);
        onChange();
        return policy;
      },
    );
  };
}
