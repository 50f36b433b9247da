import crypto from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS, PG_UNIQUE_VIOLATION, pgErrorCode } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import { digestHa1 } from '../trunks/trunks.routes.js';
import * as repo from './extensions.repository.js';
import { CreatedExtension, CreateExtensionBody, Extension, Registration, UpdateExtensionBody } from './extensions.schemas.js';
import type { Registrar } from './registrar.js';

const READERS = ['admin', 'manager'] as const;

/** Employees' extensions: admins write, managers read; the SIP password is shown once. */
export function extensionRoutes({ db, registrar, sipRealm }: { db: Db; registrar: Registrar; sipRealm: string }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/extensions',
      {
        schema: { tags: ['pbx'], summary: 'Add an extension (an employee’s phone line)', body: CreateExtensionBody, response: { 201: CreatedExtension } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        const { extension, name, userId, international, outboundPerMinute, callerId } = request.body;
        const sipUsername = `${extension}-${crypto.randomBytes(3).toString('hex')}`;
        const sipPassword = crypto.randomBytes(12).toString('base64url');
        try {
          const created = await repo.insertExtension(db, {
            accountId: principalOf(request).accountId,
            extension,
            name,
            userId,
            international,
            outboundPerMinute,
            callerId,
            sipUsername,
            passwordHa1: digestHa1(sipUsername, sipRealm, sipPassword),
          });
          return reply.status(201).send({ ...created, sipPassword });
        } catch (err) {
          if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw ERRORS.conflict(`extension ${extension} already exists`);
          throw err;
        }
      },
    );

    app.get(
      '/v1/extensions',
      { schema: { tags: ['pbx'], summary: 'Extensions', response: { 200: z.object({ items: z.array(Extension) }) } }, config: { roles: READERS } },
      async (request) => ({ items: await repo.listExtensions(db, principalOf(request).accountId) }),
    );

    app.get(
      '/v1/extensions/:id',
      { schema: { tags: ['pbx'], summary: 'One extension', params: IdParams, response: { 200: Extension } }, config: { roles: READERS } },
      async (request) => {
        const found = await repo.findExtension(db, principalOf(request).accountId, request.params.id);
        if (!found) throw ERRORS.notFound('extension', request.params.id);
        return found;
      },
    );

    app.patch(
      '/v1/extensions/:id',
      {
        schema: {
          tags: ['pbx'],
          summary: 'Rename an extension or change what it may dial outside (international grant, calls per minute, caller ID)',
          params: IdParams,
          body: UpdateExtensionBody,
          response: { 200: Extension },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const updated = await repo.updateExtension(db, principalOf(request).accountId, request.params.id, request.body);
        if (!updated) throw ERRORS.notFound('extension', request.params.id);
        return updated;
      },
    );

    app.get(
      '/v1/extensions/:id/registrations',
      {
        schema: {
          tags: ['pbx'],
          summary: 'Where the extension’s phones are registered',
          params: IdParams,
          response: { 200: z.object({ items: z.array(Registration) }) },
        },
        config: { roles: READERS },
      },
      async (request) => {
        const found = await repo.findExtension(db, principalOf(request).accountId, request.params.id);
        if (!found) throw ERRORS.notFound('extension', request.params.id);
        return { items: await registrar.registrations(found.id) };
      },
    );

    app.delete(
      '/v1/extensions/:id',
      { schema: { tags: ['pbx'], summary: 'Remove an extension', params: IdParams, response: { 204: z.null() } }, config: { roles: ['admin'] } },
      async (request, reply) => {
        if (!(await repo.deleteExtension(db, principalOf(request).accountId, request.params.id))) throw ERRORS.notFound('extension', request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
