import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS, PG_UNIQUE_VIOLATION, pgErrorCode } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { ErrorBody, IdParams } from '../shared/schemas.js';
import * as repo from './groups.repository.js';
import { CreateGroupBody, Group, UpdateGroupBody } from './groups.schemas.js';

const READERS = ['admin', 'manager'] as const;

/** Ring groups (who answers `group:<name>`): admins write, managers read. */
export function groupRoutes({ db, onChange }: { db: Db; onChange(): void }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/groups',
      {
        schema: { tags: ['pbx'], summary: 'Add a ring group', body: CreateGroupBody, response: { 201: Group, 400: ErrorBody, 409: ErrorBody } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        try {
          const created = await repo.insertGroup(db, principalOf(request).accountId, request.body);
          onChange();
          return reply.status(201).send(created);
        } catch (err) {
          if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw ERRORS.conflict(`a group named ${request.body.name} already exists`);
          throw err;
        }
      },
    );

    app.get(
      '/v1/groups',
      { schema: { tags: ['pbx'], summary: 'Ring groups', response: { 200: z.object({ items: z.array(Group) }) } }, config: { roles: READERS } },
      async (request) => ({ items: await repo.listGroups(db, principalOf(request).accountId) }),
    );

    app.get(
      '/v1/groups/:id',
      { schema: { tags: ['pbx'], summary: 'One ring group', params: IdParams, response: { 200: Group, 404: ErrorBody } }, config: { roles: READERS } },
      async (request) => {
        const found = await repo.findGroup(db, principalOf(request).accountId, request.params.id);
        if (!found) throw ERRORS.notFound('group', request.params.id);
        return found;
      },
    );

    app.patch(
      '/v1/groups/:id',
      {
        schema: {
          tags: ['pbx'],
          summary: 'Change a group’s members, strategy or ring time (the next call uses them)',
          params: IdParams,
          body: UpdateGroupBody,
          response: { 200: Group, 400: ErrorBody, 404: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const updated = await repo.updateGroup(db, principalOf(request).accountId, request.params.id, request.body);
        if (!updated) throw ERRORS.notFound('group', request.params.id);
        onChange();
        return updated;
      },
    );

    app.delete(
      '/v1/groups/:id',
      {
        schema: {
          tags: ['pbx'],
          summary: 'Delete a ring group (plans naming it then ring nobody there)',
          params: IdParams,
          response: { 204: z.null(), 404: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        if (!(await repo.deleteGroup(db, principalOf(request).accountId, request.params.id))) throw ERRORS.notFound('group', request.params.id);
        onChange();
        return reply.status(204).send(null);
      },
    );
  };
}
