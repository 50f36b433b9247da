import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS, PG_UNIQUE_VIOLATION, pgErrorCode } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { ErrorBody, IdParams } from '../shared/schemas.js';
import { findByNumber } from './extensions.repository.js';
import type { QueueEngine } from './queue-engine.js';
import * as repo from './queues.repository.js';
import { AgentStatusBody, CreateQueueBody, Queue, UpdateQueueBody } from './queues.schemas.js';

const READERS = ['admin', 'manager'] as const;

/** Call queues (`queue: <name>` steps): admins write, managers read and pause or free agents. */
export function queueRoutes({ db, engine, onChange }: { db: Db; engine: Pick<QueueEngine, 'setStatus'>; onChange(): void }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/queues',
      {
        schema: { tags: ['pbx'], summary: 'Add a call queue', body: CreateQueueBody, response: { 201: Queue, 400: ErrorBody, 409: ErrorBody } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        try {
          const created = await repo.insertQueue(db, principalOf(request).accountId, request.body);
          onChange();
          return reply.status(201).send(created);
        } catch (err) {
          if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw ERRORS.conflict(`a queue named ${request.body.name} already exists`);
          throw err;
        }
      },
    );

    app.get(
      '/v1/queues',
      { schema: { tags: ['pbx'], summary: 'Call queues', response: { 200: z.object({ items: z.array(Queue) }) } }, config: { roles: READERS } },
      async (request) => ({ items: await repo.listQueues(db, principalOf(request).accountId) }),
    );

    app.get(
      '/v1/queues/:id',
      { schema: { tags: ['pbx'], summary: 'One call queue', params: IdParams, response: { 200: Queue, 404: ErrorBody } }, config: { roles: READERS } },
      async (request) => {
        const found = await repo.findQueue(db, principalOf(request).accountId, request.params.id);
        if (!found) throw ERRORS.notFound('queue', request.params.id);
        return found;
      },
    );

    app.patch(
      '/v1/queues/:id',
      {
        schema: {
          tags: ['pbx'],
          summary: 'Change a queue (the next offer uses it)',
          params: IdParams,
          body: UpdateQueueBody,
          response: { 200: Queue, 400: ErrorBody, 404: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const updated = await repo.updateQueue(db, principalOf(request).accountId, request.params.id, request.body);
        if (!updated) throw ERRORS.notFound('queue', request.params.id);
        onChange();
        return updated;
      },
    );

    app.delete(
      '/v1/queues/:id',
      {
        schema: {
          tags: ['pbx'],
          summary: 'Delete a call queue (plans naming it go on to their next step)',
          params: IdParams,
          response: { 204: z.null(), 404: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        if (!(await repo.deleteQueue(db, principalOf(request).accountId, request.params.id))) throw ERRORS.notFound('queue', request.params.id);
        onChange();
        return reply.status(204).send(null);
      },
    );

    app.put(
      '/v1/agents/:extension/status',
      {
        schema: {
          tags: ['pbx'],
          summary: 'Pause an agent (skipped by every queue) or make them available again',
          params: z.object({ extension: z.string().regex(/^[0-9]{2,8}$/, 'an extension number, e.g. 101') }),
          body: AgentStatusBody,
          response: { 200: z.object({ extension: z.string(), status: z.enum(['available', 'paused']) }), 404: ErrorBody },
        },
        config: { roles: READERS },
      },
      async (request) => {
        const accountId = principalOf(request).accountId;
        if (!(await findByNumber(db, accountId, request.params.extension))) throw ERRORS.notFound('extension', request.params.extension);
        engine.setStatus(accountId, request.params.extension, request.body.status);
        return { extension: request.params.extension, status: request.body.status };
      },
    );
  };
}
