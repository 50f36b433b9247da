import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import { poolUsage } from './pools-usage.repository.js';

/** Above this share of the pool held at peak, a visitor arriving at a busy moment may find it empty. */
export const UTILISATION_WARNING = 0.75;

/** Smallest pool whose measured peak demand stays at or under the warning level, and at least 2 spare numbers. */
export function recommendedSize(peakDemand: number): number {
  if (peakDemand === 0) return 0;
  return Math.max(Math.ceil(peakDemand / UTILISATION_WARNING), peakDemand + 2);
}

export const PoolUsage = z.object({
  poolId: z.uuid(),
  windowHours: z.number(),
  from: z.string(),
  to: z.string(),
  size: z.number().int(),
  leased: z.number().int().meta({ description: 'numbers held by a visitor now' }),
  free: z.number().int(),
  exhaustedEvents: z.number().int().meta({ description: 'visitors who found every number taken (default number shown or a number shared)' }),
  sharedLeases: z.number().int(),
  refusedByClientCap: z
    .number()
    .int()
    .meta({ description: 'visitors shown the default number because their address or network already held its lease cap (counted per hour)' }),
  sessions: z.number().int().meta({ description: 'leases in the window' }),
  peakConcurrent: z.number().int().meta({ description: 'most numbers held at once in the window' }),
  peakDemand: z.number().int().meta({ description: 'peak including visitors who got no number of their own' }),
  utilisation: z.number().meta({ description: 'peakConcurrent / size' }),
  recommendedSize: z
    .number()
    .int()
    .meta({ description: `peak demand with headroom: utilisation ≤ ${UTILISATION_WARNING * 100} % at peak` }),
  warning: z.string().nullable(),
});

export const UsageQuery = z.object({
  windowHours: z.coerce
    .number()
    .min(1 / 60)
    .max(24 * 90)
    .default(24),
});

export function poolUsageRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/pools/:id/usage',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'Leased/free numbers, exhaustion, measured peak concurrency and the advised pool size',
          params: IdParams,
          querystring: UsageQuery,
          response: { 200: PoolUsage },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const to = new Date();
        const from = new Date(to.getTime() - request.query.windowHours * 3_600_000);
        const u = await poolUsage(db, principalOf(request).accountId, request.params.id, from);
        if (!u) throw ERRORS.notFound('pool', request.params.id);
        const utilisation = u.size > 0 ? Math.round((u.peak_concurrent / u.size) * 1000) / 1000 : u.peak_demand > 0 ? 1 : 0;
        const advised = recommendedSize(u.peak_demand);
        const problems = [];
        if (u.exhausted_events > 0)
          problems.push(
            `${u.exhausted_events} visitor(s) found the pool exhausted (${u.exhaustion_policy === 'share' ? 'numbers shared: attribution ambiguous' : 'default number shown: calls unattributed'})`,
          );
        if (u.refused_by_client_cap > 0)
          problems.push(`${u.refused_by_client_cap} request(s) refused a number: their address or network already held its lease cap`);
        if (utilisation > UTILISATION_WARNING) problems.push(`peak utilisation ${Math.round(utilisation * 100)} % is above ${UTILISATION_WARNING * 100} %`);
        if (problems.length > 0 && advised > u.size) problems.push(`add ${advised - u.size} number(s): ${advised} advised`);
        return {
          poolId: request.params.id,
          windowHours: request.query.windowHours,
          from: from.toISOString(),
          to: to.toISOString(),
          size: u.size,
          leased: u.leased_now,
          free: Math.max(0, u.size - u.leased_now),
          exhaustedEvents: u.exhausted_events,
          sharedLeases: u.shared_leases,
          refusedByClientCap: u.refused_by_client_cap,
          sessions: u.sessions,
          peakConcurrent: u.peak_concurrent,
          peakDemand: u.peak_demand,
          utilisation,
          recommendedSize: advised,
          warning: problems.length > 0 ? problems.join('; ') : null,
        };
      },
    );
  };
}
