import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Db } from '../db/pool.js';
import { formLeadRoutes } from '../leads/form-leads.routes.js';
import { costSourceRoutes } from './cost-sources.routes.js';
import { costRoutes } from './costs.routes.js';
import { dealRoutes } from './deals.routes.js';
import { roiReportRoutes } from './roi.routes.js';
import type { RoiServices } from './roi-services.js';

/** Every route of end-to-end ROI (issue 13), registered by app.ts in one line. */
export function roiRoutes({
  db,
  roi,
  publicBaseUrl,
  rateLimit,
}: {
  db: Db;
  roi: RoiServices;
  publicBaseUrl: string;
  rateLimit: { max: number; timeWindowMs: number };
}): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(costRoutes({ db }));
    await app.register(costSourceRoutes({ db, puller: roi.costs }));
    await app.register(roiReportRoutes({ db }));
    await app.register(dealRoutes({ deals: roi.deals, crm: roi.crm, publicBaseUrl }));
    await app.register(formLeadRoutes({ forms: roi.forms, rateLimit }));
  };
}
