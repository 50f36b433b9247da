import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import * as repo from './tag-rules.repository.js';
import { backfillTagRule } from './tag-rules.backfill.js';
import { BackfillBody, BackfillResult, CreateTagRuleBody, TagRule, TagRuleConditions, UpdateTagRuleBody } from './tag-rules.schemas.js';

/** Everybody may see the rules (they explain tags in the call log); admins and marketers change them. */
const EDITORS = ['admin', 'marketer'] as const;
/** One backfill request checks at most this many calls (≈ a few seconds); `complete: false` says there is more. */
const BACKFILL_MAX_CALLS = 50_000;

export function tagRuleRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/tag-rules',
      {
        schema: { tags: ['tag rules'], summary: 'Tag rules of the account, oldest first', response: { 200: z.object({ items: z.array(TagRule) }) } },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: await repo.listTagRules(db, principalOf(request).accountId) }),
    );

    app.post(
      '/v1/tag-rules',
      {
        schema: {
          tags: ['tag rules'],
          summary: 'Create a rule: every new call meeting all its conditions gets its tag',
          body: CreateTagRuleBody,
          response: { 201: TagRule },
        },
        config: { roles: EDITORS },
      },
      async (request, reply) => reply.status(201).send(await repo.insertTagRule(db, principalOf(request).accountId, request.body)),
    );

    app.get(
      '/v1/tag-rules/:id',
      {
        schema: { tags: ['tag rules'], params: IdParams, response: { 200: TagRule } },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const rule = await repo.findTagRule(db, principalOf(request).accountId, request.params.id);
        if (!rule) throw ERRORS.notFound('tag rule', request.params.id);
        return rule;
      },
    );

    app.patch(
      '/v1/tag-rules/:id',
      {
        schema: {
          tags: ['tag rules'],
          summary: 'Change a rule (only the fields given)',
          params: IdParams,
          body: UpdateTagRuleBody,
          response: { 200: TagRule },
        },
        config: { roles: EDITORS },
      },
      async (request) => {
        const rule = await repo.updateTagRule(db, principalOf(request).accountId, request.params.id, request.body);
        if (!rule) throw ERRORS.notFound('tag rule', request.params.id);
        return rule;
      },
    );

    app.post(
      '/v1/tag-rules/:id/apply',
      {
        schema: {
          tags: ['tag rules'],
          summary: 'Apply a rule to calls already stored in a period (enabled or not); no callModified events',
          params: IdParams,
          body: BackfillBody,
          response: { 200: BackfillResult },
        },
        config: { roles: EDITORS },
      },
      async (request) => {
        const accountId = principalOf(request).accountId;
        const rule = await repo.findTagRule(db, accountId, request.params.id);
        if (!rule) throw ERRORS.notFound('tag rule', request.params.id);
        const conditions = TagRuleConditions.safeParse(rule.conditions);
        if (!conditions.success) throw ERRORS.validation("this rule's stored conditions are no longer valid: update them first");
        if (Date.parse(request.body.from) >= Date.parse(request.body.to)) throw ERRORS.validation('body: "to" must be after "from"');
        return backfillTagRule(db, accountId, { id: rule.id, tag: rule.tag, conditions: conditions.data }, request.body, BACKFILL_MAX_CALLS);
      },
    );

    app.delete(
      '/v1/tag-rules/:id',
      {
        schema: { tags: ['tag rules'], summary: 'Delete a rule (tags it already added stay)', params: IdParams, response: { 204: z.null() } },
        config: { roles: EDITORS },
      },
      async (request, reply) => {
        if (!(await repo.deleteTagRule(db, principalOf(request).accountId, request.params.id))) throw ERRORS.notFound('tag rule', request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
