import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Db, withTransaction } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { CsvLineError, parseCostCsv } from './costs.csv.js';
import * as costs from './costs.repository.js';
import { CostsQuery, CostUploadResult, CurrencyRateOut, PutRatesBody, RateKey, RatesQuery, StoredCost } from './costs.schemas.js';
import * as rates from './currency-rates.repository.js';

/** Who may change spend and rates: they move every ROI figure. */
const EDITORS = ['admin', 'marketer'] as const;
/** A year of daily rows for ~500 campaigns with keywords fits; a mistaken multi-GB upload does not. */
const CSV_BODY_LIMIT = 32 * 1024 * 1024;

export function costRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    // Encapsulated in this plugin: only these routes take text/csv.
    app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string', bodyLimit: CSV_BODY_LIMIT }, (_request, body, done) => done(null, body));

    app.post(
      '/v1/costs/upload',
      {
        schema: {
          tags: ['roi'],
          summary: 'Upload ad spend as CSV (date,source,medium,campaign,keyword?,cost,currency,clicks?,impressions?); a day+campaign uploaded again replaces',
          consumes: ['text/csv'],
          body: z.string().meta({ description: 'CSV text with a header line' }),
          response: { 200: CostUploadResult },
        },
        config: { roles: EDITORS },
        bodyLimit: CSV_BODY_LIMIT,
      },
      async (request) => {
        let rows: ReturnType<typeof parseCostCsv>;
        try {
          rows = parseCostCsv(request.body);
        } catch (err) {
          if (err instanceof CsvLineError) throw ERRORS.validation(err.message);
          throw err;
        }
        const accountId = principalOf(request).accountId;
        const result = await withTransaction(db, (trx) => costs.replaceCosts(trx, accountId, rows, 'csv'));
        return { rows: result.stored, replaced: result.replaced };
      },
    );

    app.get(
      '/v1/costs',
      {
        schema: { tags: ['roi'], summary: 'Stored ad spend per day', querystring: CostsQuery, response: { 200: z.object({ items: z.array(StoredCost) }) } },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: await costs.listCosts(db, principalOf(request).accountId, request.query.from, request.query.to, request.query.limit) }),
    );

    app.get(
      '/v1/currency-rates',
      {
        schema: {
          tags: ['roi'],
          summary: 'Currency rates per day (1 base = rate quote)',
          querystring: RatesQuery,
          response: { 200: z.object({ items: z.array(CurrencyRateOut) }) },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: await rates.listRates(db, principalOf(request).accountId, request.query) }),
    );

    app.put(
      '/v1/currency-rates',
      {
        schema: {
          tags: ['roi'],
          summary: 'Set rates (insert or replace per day and pair); reports use the latest rate on or before a day',
          body: PutRatesBody,
          response: { 200: z.object({ stored: z.number().int() }) },
        },
        config: { roles: EDITORS },
      },
      async (request) => {
        const accountId = principalOf(request).accountId;
        return { stored: await withTransaction(db, (trx) => rates.upsertRates(trx, accountId, request.body.items)) };
      },
    );

    app.delete(
      '/v1/currency-rates/:day/:base/:quote',
      { schema: { tags: ['roi'], summary: 'Delete one rate', params: RateKey, response: { 204: z.null() } }, config: { roles: EDITORS } },
      async (request, reply) => {
        if (!(await rates.deleteRate(db, principalOf(request).accountId, request.params)))
          throw ERRORS.notFound('currency rate', `${request.params.base}/${request.params.quote} on ${request.params.day}`);
        return reply.status(204).send(null);
      },
    );
  };
}
