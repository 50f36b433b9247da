import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Db } from '../db/pool.js';
import { costRoutes } from './costs.routes.js';

/** Every route of end-to-end ROI (issue 13), registered by app.ts in one line. */
export function roiRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(costRoutes({ db }));
  };
}
