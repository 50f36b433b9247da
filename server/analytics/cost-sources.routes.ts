import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import { ConnectorError } from './connectors/yandex-direct.js';
import type { CostPuller } from './cost-puller.service.js';
import * as repo from './cost-sources.repository.js';
import { BackfillBody, CostSource, CreateCostSourceBody, PullResult } from './cost-sources.schemas.js';

const EDITORS = ['admin', 'marketer'] as const;
const SECRETS = new Set(['token', 'developerToken']);
/** A backfill is one provider request: a year of daily rows is what Direct and Google Ads serve comfortably. */
const MAX_BACKFILL_DAYS = 366;

const present = (r: repo.CostSourceRow): CostSource => ({
  id: r.id,
  kind: r.kind,
  name: r.name,
  config: Object.fromEntries(Object.entries(r.config).map(([k, v]) => [k, SECRETS.has(k) && typeof v === 'string' ? `…${v.slice(-4)}` : v])),
  enabled: r.enabled,
  pulledThrough: r.pulled_through,
  nextPullAt: r.next_pull_at.toISOString(),
  lastPullAt: r.last_pull_at?.toISOString() ?? null,
  lastError: r.last_error,
});

export function costSourceRoutes({ db, puller }: { db: Db; puller: CostPuller }): FastifyPluginAsyncZod {
  return async (app) => {
    async function pullNow(accountId: string, id: string, range?: { from: string; to: string }) {
      const source = await repo.findCostSource(db, accountId, id);
      if (!source) throw ERRORS.notFound('cost source', id);
      try {
        return await puller.pull(source, range);
      } catch (err) {
        if (err instanceof ConnectorError) throw ERRORS.unavailable(`${source.kind} (${err.message})`, err);
        throw err;
      }
    }

    app.post(
      '/v1/cost-sources',
      {
        schema: {
          tags: ['roi'],
          summary: 'Connect Yandex Direct or Google Ads: costs are pulled daily (the last 30 days first)',
          body: CreateCostSourceBody,
          response: { 201: CostSource },
        },
        config: { roles: EDITORS },
      },
      async (request, reply) => {
        const body = request.body;
        const created = await repo.insertCostSource(db, {
          accountId: principalOf(request).accountId,
          kind: body.kind,
          name: body.name ?? body.kind,
          config: body.config,
        });
        return reply.status(201).send(present(created));
      },
    );

    app.get(
      '/v1/cost-sources',
      {
        schema: { tags: ['roi'], summary: 'Cost sources with their last pull and error', response: { 200: z.object({ items: z.array(CostSource) }) } },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: (await repo.listCostSources(db, principalOf(request).accountId)).map(present) }),
    );

    app.post(
      '/v1/cost-sources/:id/pull',
      { schema: { tags: ['roi'], summary: 'Pull the scheduled range now', params: IdParams, response: { 200: PullResult } }, config: { roles: EDITORS } },
      async (request) => pullNow(principalOf(request).accountId, request.params.id),
    );

    app.post(
      '/v1/cost-sources/:id/backfill',
      {
        schema: { tags: ['roi'], summary: 'Pull [from, to] again (replaces those days)', params: IdParams, body: BackfillBody, response: { 200: PullResult } },
        config: { roles: EDITORS },
      },
      async (request) => {
        const { from, to } = request.body;
        if (to < from) throw ERRORS.validation('body: "to" is before "from"');
        if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_BACKFILL_DAYS)
          throw ERRORS.validation(`body: at most ${MAX_BACKFILL_DAYS} days per backfill`);
        return pullNow(principalOf(request).accountId, request.params.id, { from, to });
      },
    );
  };
}
