import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { E164 } from '../shared/schemas.js';
import type { createAttributor } from './attribution.service.js';
import { Visit } from './visit.js';

export const AttributionQuery = z.object({
  number: E164,
  at: z.iso
    .datetime({ offset: true, error: 'expected an ISO-8601 date-time with Z or an offset, e.g. 2026-11-01T10:00:00Z' })
    .default(() => new Date().toISOString())
    .meta({ description: 'ISO-8601 instant of the call; default now (a call ringing now)' }),
  caller: z.string().max(64).optional().meta({ description: 'Caller id, for repeat-caller linking' }),
});

export const AttributionResponse = z.object({
  sessionId: z.string().nullable().meta({ description: 'For ambiguous: the most likely candidate' }),
  sourceId: z.string().nullable(),
  confidence: z.enum(['exact', 'ambiguous', 'static', 'none']),
  reason: z.string(),
  candidates: z
    .array(z.object({ sessionId: z.string(), visitorId: z.string().nullable().optional(), likelihood: z.number(), reason: z.string() }))
    .meta({ description: 'Visitors who may have called, most likely first (by last activity, then lease recency)' }),
  likelihood: z.number().meta({ description: 'How likely the answer is right: the top candidate’s likelihood (1 for exact and static, 0 for none)' }),
  visit: Visit.nullable().meta({ description: 'The last touch of the attributed visitor (null for static sources and none)' }),
  visitChain: z.array(Visit).meta({ description: 'The visitor’s visits up to the call, first touch … last touch (at most 20)' }),
  staticSource: z.object({ id: z.string(), name: z.string(), channel: z.string(), medium: z.string().nullable(), campaign: z.string().nullable() }).nullable(),
  overflow: z.boolean().meta({ description: 'the number was shared because the pool was exhausted' }),
  previousCallId: z.string().nullable(),
  firstTime: z.boolean(),
  priorCalls: z.number().int().meta({ description: 'The caller’s earlier calls, counted up to 100 (100 means 100 or more)' }),
  priorCallIds: z.array(z.string()).meta({ description: 'The caller’s earlier calls, newest first (up to 10)' }),
});

export function attributionRoutes({ attributor }: { attributor: ReturnType<typeof createAttributor> }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/attribution',
      {
        schema: {
          tags: ['attribution'],
          summary: 'Which session or source a call to this number at this instant belongs to',
          querystring: AttributionQuery,
          response: { 200: AttributionResponse },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const { number, at, caller } = request.query;
        return attributor.attributeWithCalls({ accountId: principalOf(request).accountId, number, at: new Date(at), ...(caller ? { caller } : {}) });
      },
    );
  };
}
