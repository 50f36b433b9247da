import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { type DialplanCatalog, DialplanBinding, DialplanBindingBody } from '../dialplans/dialplan-catalog.js';
import { ERRORS, PG_UNIQUE_VIOLATION, pgErrorCode } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import * as repo from './numbers.repository.js';
import { CreateNumberBody, NumberParams, TrackingNumber } from './numbers.schemas.js';

export function checkDialplan(dialplans: DialplanCatalog, name: string | null | undefined): void {
  if (name && !dialplans.has(name)) throw ERRORS.validation(`dialplan "${name}" does not exist (no dialplans/${name}.yaml loaded)`);
}

export function numberRoutes({ db, dialplans, onChange }: { db: Db; dialplans: DialplanCatalog; onChange?: () => void }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/numbers',
      {
        schema: { tags: ['provisioning'], summary: 'Add a tracking number on a trunk', body: CreateNumberBody, response: { 201: TrackingNumber } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        checkDialplan(dialplans, request.body.dialplan);
        const accountId = principalOf(request).accountId;
        try {
          const created = await repo.insertNumber(db, { accountId, ...request.body });
          if (!created) throw ERRORS.validation(`trunk ${request.body.trunkId} does not exist`);
          onChange?.();
          return reply.status(201).send(created);
        } catch (err) {
          if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw ERRORS.conflict(`number ${request.body.number} is already provisioned`);
          throw err;
        }
      },
    );

    app.get(
      '/v1/numbers',
      {
        schema: { tags: ['provisioning'], summary: 'List tracking numbers', response: { 200: z.object({ items: z.array(TrackingNumber) }) } },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: await repo.listNumbers(db, principalOf(request).accountId) }),
    );

    app.get(
      '/v1/numbers/:number',
      {
        schema: { tags: ['provisioning'], params: NumberParams, response: { 200: TrackingNumber } },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const found = await repo.findNumber(db, principalOf(request).accountId, request.params.number);
        if (!found) throw ERRORS.numberNotFound(request.params.number);
        return found;
      },
    );

    app.put(
      '/v1/numbers/:number/dialplan',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'Bind a dialplan to a number (most specific binding wins)',
          params: NumberParams,
          body: DialplanBindingBody,
          response: { 200: DialplanBinding },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        checkDialplan(dialplans, request.body.dialplan);
        if (!(await repo.setNumberDialplan(db, principalOf(request).accountId, request.params.number, request.body.dialplan))) {
          throw ERRORS.numberNotFound(request.params.number);
        }
        onChange?.();
        return { dialplan: request.body.dialplan };
      },
    );

    app.delete(
      '/v1/numbers/:number',
      {
        schema: { tags: ['provisioning'], params: NumberParams, response: { 204: z.null() } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        if (!(await repo.deleteNumber(db, principalOf(request).accountId, request.params.number))) throw ERRORS.numberNotFound(request.params.number);
        onChange?.();
        return reply.status(204).send(null);
      },
    );
  };
}
