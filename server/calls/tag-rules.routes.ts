import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import * as repo from './tag-rules.repository.js';
import { CreateTagRuleBody, TagRule, UpdateTagRuleBody } from './tag-rules.schemas.js';

/** Everybody may see the rules (they explain tags in the call log); admins and marketers change them. */
const EDITORS = ['admin', 'marketer'] as const;

export function tagRuleRoutes({ db }: { db: Db }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/v1/tag-rules', {
      schema: { tags: ['tag rules'], summary: 'Tag rules of the account, oldest first', response: { 200: z.object({ items: z.array(TagRule) }) } },
      config: { roles: ANY_ROLE },
    }, async (request) => ({ items: await repo.listTagRules(db, principalOf(request).accountId) }));

    app.post('/v1/tag-rules', {
      schema: { tags: ['tag rules'], summary: 'Create a rule: every new call meeting all its conditions gets its tag', body: CreateTagRuleBody, response: { 201: TagRule } },
      config: { roles: EDITORS },
    }, async (request, reply) => reply.status(201).send(await repo.insertTagRule(db, principalOf(request).accountId, request.body)));

    app.get('/v1/tag-rules/:id', {
      schema: { tags: ['tag rules'], params: IdParams, response: { 200: TagRule } },
      config: { roles: ANY_ROLE },
    }, async (request) => {
      const rule = await repo.findTagRule(db, principalOf(request).accountId, request.params.id);
      if (!rule) throw ERRORS.notFound('tag rule', request.params.id);
      return rule;
    });

    app.patch('/v1/tag-rules/:id', {
      schema: { tags: ['tag rules'], summary: 'Change a rule (only the fields given)', params: IdParams, body: UpdateTagRuleBody, response: { 200: TagRule } },
      config: { roles: EDITORS },
    }, async (request) => {
      const rule = await repo.updateTagRule(db, principalOf(request).accountId, request.params.id, request.body);
      if (!rule) throw ERRORS.notFound('tag rule', request.params.id);
      return rule;
    });

    app.delete('/v1/tag-rules/:id', {
      schema: { tags: ['tag rules'], summary: 'Delete a rule (tags it already added stay)', params: IdParams, response: { 204: z.null() } },
      config: { roles: EDITORS },
    }, async (request, reply) => {
      if (!(await repo.deleteTagRule(db, principalOf(request).accountId, request.params.id))) throw ERRORS.notFound('tag rule', request.params.id);
      return reply.status(204).send(null);
    });
  };
}
