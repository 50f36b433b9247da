import crypto from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import type { DialplanCatalog } from '../dialplans/dialplan-catalog.js';
import { assertMayRoute } from '../dialplans/routing-permission.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { checkDialplan } from '../numbers/numbers.routes.js';
import { IdParams } from '../shared/schemas.js';
import * as repo from './sites.repository.js';
import { CreateSiteBody, Site } from './sites.schemas.js';

export function siteRoutes({ db, dialplans, onChange }: { db: Db; dialplans: DialplanCatalog; onChange?: () => void }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/sites',
      {
        schema: { tags: ['provisioning'], summary: 'Add a website for dynamic number insertion', body: CreateSiteBody, response: { 201: Site } },
        config: { roles: ['admin', 'marketer'] },
      },
      async (request, reply) => {
        assertMayRoute(request, request.body.dialplan);
        checkDialplan(dialplans, request.body.dialplan, principalOf(request).accountId);
        const site = await repo.insertSite(db, {
          accountId: principalOf(request).accountId,
          ...request.body,
          // Public by design (it sits in the page's HTML); unguessable so sites cannot be enumerated.
          siteKey: `site_${crypto.randomBytes(12).toString('base64url')}`,
        });
        // A site-level dialplan binding routes its pools' numbers.
        if (request.body.dialplan) onChange?.();
        return reply.status(201).send(site);
      },
    );

    app.get(
      '/v1/sites',
      {
        schema: { tags: ['provisioning'], response: { 200: z.object({ items: z.array(Site) }) } },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: await repo.listSites(db, principalOf(request).accountId) }),
    );

    app.get(
      '/v1/sites/:id',
      {
        schema: { tags: ['provisioning'], params: IdParams, response: { 200: Site } },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const site = await repo.findSite(db, principalOf(request).accountId, request.params.id);
        if (!site) throw ERRORS.notFound('site', request.params.id);
        return site;
      },
    );
  };
}
