import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import { effectiveCooldownSeconds } from '../numbers/leases.service.js';
import type { CooldownLearner } from './pools-cooldown.service.js';
import { adviseSize, delayDistribution, MIN_MEASURED_CALLS, occupancyOf, ruleOfThumbSize, TARGET_ACCURACY } from './pools-sizing.js';
import { callDelays, exactPrecision, holderIntervals, poolUsage } from './pools-usage.repository.js';

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
    .meta({
      description: `with ${MIN_MEASURED_CALLS}+ measured calls: the size for ${TARGET_ACCURACY * 100} % accuracy (at least peak demand + 2); before that, peak demand with headroom (utilisation ≤ ${UTILISATION_WARNING * 100} % at peak)`,
    }),
  warning: z.string().nullable(),
  callDelays: z
    .object({
      calls: z.number().int().meta({ description: 'attributed calls measured in the window' }),
      p50Seconds: z.number(),
      p90Seconds: z.number(),
      p99Seconds: z.number(),
      maxSeconds: z.number(),
      histogram: z.array(z.object({ upToSeconds: z.number().nullable().meta({ description: 'null: longer than the last edge' }), calls: z.number().int() })),
    })
    .meta({ description: 'seconds from the caller’s last activity on the site to the call' }),
  cooldownSeconds: z.number().int().meta({ description: 'how long a released number rests before another visitor gets it (p99 of delays, ≥ hold)' }),
  cooldownLearned: z.boolean().meta({ description: 'false: too few calls measured yet, the default (5 min or the hold) applies' }),
  expectedAccuracy: z
    .number()
    .nullable()
    .meta({ description: 'share of calls expected to reach the right visitor at the current size (lower bound); null until enough calls' }),
  sizeForTargetAccuracy: z
    .number()
    .int()
    .nullable()
    .meta({ description: `numbers needed for ${TARGET_ACCURACY * 100} % of calls to reach the right visitor, from measured concurrency and delays` }),
  visitors: z.number().int().meta({ description: 'distinct visitors who held (or wanted) a number in the window' }),
  exactPrecision: z
    .object({
      checked: z.number().int().meta({ description: '`exact` calls whose caller was tied to a visitor on another call too' }),
      confirmed: z.number().int().meta({ description: 'of those, calls where that visitor was the same' }),
      precision: z.number().nullable().meta({ description: 'confirmed / checked; null when nothing could be checked' }),
    })
    .meta({ description: 'how often `exact` was right, measured from truth learned later (repeat callers)' }),
  ruleOfThumbSize: z.number().int().meta({ description: 'one number per 20 daily visitors, for comparison' }),
});

export const UsageQuery = z.object({
  windowHours: z.coerce
    .number()
    .min(1 / 60)
    .max(24 * 90)
    .default(24),
});

export function poolUsageRoutes({ db, cooldowns }: { db: Db; cooldowns?: CooldownLearner }): FastifyPluginAsyncZod {
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
        const [delays, holders, precision, learned] = await Promise.all([
          callDelays(db, request.params.id, from),
          holderIntervals(db, request.params.id, from),
          exactPrecision(db, request.params.id, from),
          cooldowns ? cooldowns.learn({ id: request.params.id, holdSeconds: u.hold_seconds }) : Promise.resolve(null),
        ]);
        const sizing = adviseSize(occupancyOf(holders.intervals), delays, u.hold_seconds, u.size);
        const utilisation = u.size > 0 ? Math.round((u.peak_concurrent / u.size) * 1000) / 1000 : u.peak_demand > 0 ? 1 : 0;
        // Measured delays decide once there are enough calls; before that, peak demand with headroom.
        const advised = sizing.sizeForTarget === null ? recommendedSize(u.peak_demand) : Math.max(sizing.sizeForTarget, u.peak_demand + 2);
        const problems = [];
        if (u.exhausted_events > 0)
          problems.push(
            `${u.exhausted_events} visitor(s) found the pool exhausted (${u.exhaustion_policy === 'share' ? 'numbers shared: attribution ambiguous' : 'default number shown: calls unattributed'})`,
          );
        if (u.refused_by_client_cap > 0)
          problems.push(`${u.refused_by_client_cap} request(s) refused a number: their address or network already held its lease cap`);
        if (sizing.expectedAccuracy !== null && sizing.expectedAccuracy < TARGET_ACCURACY)
          problems.push(`expected accuracy ${(sizing.expectedAccuracy * 100).toFixed(1)} % is below ${TARGET_ACCURACY * 100} %`);
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
          callDelays: delayDistribution(delays, u.hold_seconds),
          cooldownSeconds: effectiveCooldownSeconds({ holdSeconds: u.hold_seconds, cooldownSeconds: learned }),
          cooldownLearned: learned !== null,
          expectedAccuracy: sizing.expectedAccuracy,
          sizeForTargetAccuracy: sizing.sizeForTarget,
          visitors: holders.visitors,
          ruleOfThumbSize: ruleOfThumbSize(holders.visitors, request.query.windowHours),
          exactPrecision: {
            ...precision,
            precision: precision.checked > 0 ? Math.round((precision.confirmed / precision.checked) * 10_000) / 10_000 : null,
          },
        };
      },
    );
  };
}
