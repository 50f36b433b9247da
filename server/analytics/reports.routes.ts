import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Db } from '../db/pool.js';
import { ERRORS, pgErrorCode } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import * as repo from './reports.repository.js';
import { DailyReport, FunnelReport, ReportQuery, SourceReport } from './reports.schemas.js';

const PG_INVALID_PARAMETER_VALUE = '22023';
/** Daily rows are one per day: ten years is plenty and keeps a typo from asking for a million rows. */
const MAX_DAYS = 3_700;

export function reportRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    async function period(q: ReportQuery): Promise<repo.Period> {
      let p: repo.Period;
      try {
        p = await repo.resolvePeriod(db, q);
      } catch (err) {
        // ICU and Postgres may disagree on a rare zone name: Postgres is the one that must understand it.
        if (pgErrorCode(err) === PG_INVALID_PARAMETER_VALUE) throw ERRORS.validation(`querystring.tz: Postgres does not know the time zone "${q.tz}"`);
        throw err;
      }
      if (p.hi <= p.lo) throw ERRORS.validation('querystring: "to" must be after "from"');
      if (p.hi.getTime() - p.lo.getTime() > MAX_DAYS * 86_400_000) throw ERRORS.validation(`querystring: the period is longer than ${MAX_DAYS} days`);
      return p;
    }

    // Reports are read-only: every role may see them.
    app.get(
      '/v1/reports/sources',
      {
        schema: {
          tags: ['reports'],
          summary: 'Calls, answers, first-time callers, talk time and cost per source/medium/campaign',
          querystring: ReportQuery,
          response: { 200: SourceReport },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => repo.sourceReport(db, principalOf(request).accountId, await period(request.query)),
    );

    app.get(
      '/v1/reports/daily',
      {
        schema: { tags: ['reports'], summary: 'Calls, answered and missed per day in a time zone', querystring: ReportQuery, response: { 200: DailyReport } },
        config: { roles: ANY_ROLE },
      },
      async (request) => repo.dailyReport(db, principalOf(request).accountId, await period(request.query)),
    );

    app.get(
      '/v1/reports/funnel',
      {
        schema: { tags: ['reports'], summary: 'Website visits → calls → answered', querystring: ReportQuery, response: { 200: FunnelReport } },
        config: { roles: ANY_ROLE },
      },
      async (request) => repo.funnelReport(db, principalOf(request).accountId, await period(request.query)),
    );
  };
}
