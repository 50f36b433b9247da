import crypto from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS, PG_FOREIGN_KEY_VIOLATION, PG_UNIQUE_VIOLATION, pgErrorCode } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import type { CarrierRegistrationStatus } from './carrier-registration.js';
import * as repo from './trunks.repository.js';
import { OutboundSide } from './outbound.schemas.js';
import { CreateTrunkBody, Trunk, UpdateTrunkBody } from './trunks.schemas.js';

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

    app.patch(
      '/v1/trunks/:id',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'Change a trunk: name, carrier addresses, limits, or its outbound side',
          params: IdParams,
          body: UpdateTrunkBody,
          response: { 200: Trunk },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const accountId = principalOf(request).accountId;
        const { outbound: asked, ...rest } = request.body;
        const stored = await repo.findStoredOutbound(db, accountId, request.params.id);
        if (!stored.found) throw ERRORS.notFound('trunk', request.params.id);
        let outbound: OutboundSide | null | undefined;
        if (asked) {
          // The password is never shown, so an edit leaves it out: the stored one stays for the same username.
          const keep = asked.password === undefined && asked.username !== undefined && asked.username === stored.outbound?.username;
          const checked = OutboundSide.safeParse(keep ? { ...asked, password: stored.outbound?.password } : asked);
          if (!checked.success) {
            const issue = checked.error.issues[0]!;
            throw ERRORS.validation(`body.outbound.${issue.path.join('.')}: ${issue.message}`);
          }
          outbound = checked.data;
        } else outbound = asked;
        const updated = await repo.updateTrunk(db, accountId, request.params.id, { ...rest, outbound });
        if (!updated) throw ERRORS.notFound('trunk', request.params.id);
        onChange?.();
        return withRegistration(updated);
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
