import crypto from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS, PG_FOREIGN_KEY_VIOLATION, PG_UNIQUE_VIOLATION, pgErrorCode } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import type { CarrierRegistrationStatus } from './carrier-registration.js';
import * as repo from './trunks.repository.js';
import { CreateTrunkBody, Trunk } from './trunks.schemas.js';

export function digestHa1(username: string, realm: string, password: string): string {
  return crypto.createHash('md5').update(`${username}:${realm}:${password}`).digest('hex');
}

export function trunkRoutes({
  db,
  sipRealm,
  onChange,
  carrierStatus,
}: {
  db: Db;
  sipRealm: string;
  onChange?: () => void;
  /** This node's registrations with carriers, shown on the trunks that register. */
  carrierStatus?: CarrierRegistrationStatus;
}): FastifyPluginAsyncZod {
  const withRegistration = (trunk: Trunk): Trunk =>
    trunk.outbound?.register ? { ...trunk, outbound: { ...trunk.outbound, registration: carrierStatus?.get(trunk.id) ?? null } } : trunk;
  return async (app) => {
    app.post(
      '/v1/trunks',
      {
        schema: { tags: ['provisioning'], summary: 'Add a carrier trunk', body: CreateTrunkBody, response: { 201: Trunk } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        const { name, addresses, username, password, maxCallsPerSecond, maxConcurrentCalls, outbound } = request.body;
        try {
          const trunk = await repo.insertTrunk(db, {
            accountId: principalOf(request).accountId,
            name,
            addresses,
            maxCallsPerSecond,
            maxConcurrentCalls,
            outbound,
            ...(username && password ? { username, passwordHa1: digestHa1(username, sipRealm, password) } : {}),
          });
          onChange?.();
          return reply.status(201).send(trunk);
        } catch (err) {
          if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw ERRORS.conflict(`a trunk named "${name}" or with username "${username}" already exists`);
          throw err;
        }
      },
    );

    app.get(
      '/v1/trunks',
      {
        schema: { tags: ['provisioning'], summary: 'List trunks', response: { 200: z.object({ items: z.array(Trunk) }) } },
        config: { roles: ['admin'] },
      },
      async (request) => ({ items: (await repo.listTrunks(db, principalOf(request).accountId)).map(withRegistration) }),
    );

    app.get(
      '/v1/trunks/:id',
      {
        schema: { tags: ['provisioning'], params: IdParams, response: { 200: Trunk } },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const trunk = await repo.findTrunk(db, principalOf(request).accountId, request.params.id);
        if (!trunk) throw ERRORS.notFound('trunk', request.params.id);
        return withRegistration(trunk);
      },
    );

    app.delete(
      '/v1/trunks/:id',
      {
        schema: { tags: ['provisioning'], params: IdParams, response: { 204: z.null() } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        try {
          if (!(await repo.deleteTrunk(db, principalOf(request).accountId, request.params.id))) throw ERRORS.notFound('trunk', request.params.id);
        } catch (err) {
          if (pgErrorCode(err) === PG_FOREIGN_KEY_VIOLATION) throw ERRORS.conflict('the trunk still has numbers; move or delete them first');
          throw err;
        }
        onChange?.();
        return reply.status(204).send(null);
      },
    );
  };
}
