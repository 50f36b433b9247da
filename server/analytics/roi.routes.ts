import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Db } from '../db/pool.js';
import { ERRORS, pgErrorCode } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { accountCurrency } from './currency-rates.repository.js';
import { resolvePeriod } from './reports.repository.js';
import { roiReport } from './roi.repository.js';
import { RoiQuery, RoiReport } from './roi.schemas.js';

const PG_INVALID_PARAMETER_VALUE = '22023';
/** Two years and a bit: the longest comparison a marketer asks for; keeps one request from scanning all history. */
const MAX_DAYS = 800;

export function roiReportRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/reports/roi',
      {
        schema: {
          tags: ['reports', 'roi'],
          summary: 'Visits, calls, forms, leads, deals, revenue, cost, CPL, CPA, ROMI and LTV per channel under an attribution model',
          querystring: RoiQuery,
          response: { 200: RoiReport },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const q = request.query;
        const accountId = principalOf(request).accountId;
        let period: Awaited<ReturnType<typeof resolvePeriod>>;
        try {
          period = await resolvePeriod(db, q);
        } catch (err) {
          if (pgErrorCode(err) === PG_INVALID_PARAMETER_VALUE) throw ERRORS.validation(`querystring.tz: Postgres does not know the time zone "${q.tz}"`);
          throw err;
        }
        if (period.hi <= period.lo) throw ERRORS.validation('querystring: "to" must be after "from"');
        if (period.hi.getTime() - period.lo.getTime() > MAX_DAYS * 86_400_000)
          throw ERRORS.validation(`querystring: the period is longer than ${MAX_DAYS} days`);
        const currency = q.currency ?? (await accountCurrency(db, accountId));
        const report = await roiReport(db, accountId, period, { groupBy: q.groupBy, model: q.model, currency });
        return { period: { from: period.lo.toISOString(), to: period.hi.toISOString(), tz: period.tz }, ...report };
      },
    );
  };
}
