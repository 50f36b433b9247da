import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Db } from '../db/pool.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { readOnboardingFacts } from './onboarding.repository.js';
import { Onboarding } from './onboarding.schemas.js';
import { buildChecklist } from './onboarding.service.js';

/** The getting-started checklist of the home page. */
export function onboardingRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/onboarding',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'Getting-started checklist: trunk, numbers, pool or source, snippet seen, first call, sink; each with its done flag',
          response: { 200: Onboarding },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => buildChecklist(await readOnboardingFacts(db, principalOf(request).accountId)),
    );
  };
}
