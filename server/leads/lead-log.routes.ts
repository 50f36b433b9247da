import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { ErrorBody } from '../shared/schemas.js';
import { listLeadLog } from './lead-log.repository.js';
import { LeadLogItem, LeadLogQuery } from './lead-log.schemas.js';

/** The lead log: calls and web-form requests together (GET /v1/calls stays the calls-only log with its filters). */
export function leadLogRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/leads',
      {
        schema: {
          tags: ['leads'],
          summary: 'Lead log: calls and form requests, newest first, keyset-paged, filtered by kind',
          querystring: LeadLogQuery,
          response: { 200: z.object({ items: z.array(LeadLogItem), nextCursor: z.string().nullable() }), 400: ErrorBody },
        },
        config: { roles: ['admin', 'manager', 'marketer', 'viewer'] },
      },
      async (request) => {
        const q = request.query;
        if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw ERRORS.validation('querystring: "from" is after "to"');
        const page = await listLeadLog(db, principalOf(request).accountId, q);
        if (page === 'bad-cursor') throw ERRORS.validation('querystring.cursor: not a cursor this log issued');
        return page;
      },
    );
  };
}
