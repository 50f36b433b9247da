import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import type { CallEventSink } from './call-events.js';
import * as repo from './calls.repository.js';
import { CallDetail, CallsQuery, CallSummary, NoteBody, ScoreBody, TagsBody } from './calls.schemas.js';

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  // Quote always-risky cells; a leading = + - @ would run as a formula in a spreadsheet.
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n\r;]/.test(safe) || safe !== s ? `"${safe.replaceAll('"', '""')}"` : safe;
};
const CSV_COLUMNS = ['id', 'startedAt', 'caller', 'trackingNumber', 'disposition', 'talkSeconds', 'ringSeconds', 'answeredBy', 'source', 'campaign', 'confidence', 'firstTime', 'tags'] as const;

export function callRoutes({ db, events }: { db: Db; events?: CallEventSink | undefined }): FastifyPluginAsyncZod {
  return async (app) => {
    const requireCall = async (accountId: string, id: string) => {
      if (!(await repo.callExists(db, accountId, id))) throw ERRORS.notFound('call', id);
    };
    const modified = (accountId: string, callId: string, field: 'tags' | 'notes' | 'score') =>
      events?.callModified(db, { callId, accountId }, { field }).catch(() => undefined);

    app.get('/v1/calls', {
      schema: { tags: ['calls'], summary: 'Call log, newest first, keyset-paged', querystring: CallsQuery, response: { 200: z.object({ items: z.array(CallSummary), nextCursor: z.string().nullable() }) } },
      config: { roles: ANY_ROLE },
    }, async (request) => {
      const page = await repo.listCalls(db, principalOf(request).accountId, request.query);
      if (page === 'bad-cursor') throw ERRORS.validation('cursor is not one this API returned');
      return page;
    });

    app.get('/v1/calls/export.csv', {
      schema: { tags: ['calls'], summary: 'The filtered call log as CSV', querystring: CallsQuery.omit({ limit: true, cursor: true }) },
      config: { roles: ANY_ROLE },
    }, async (request, reply) => {
      const accountId = principalOf(request).accountId;
      const lines = [CSV_COLUMNS.join(',')];
      let cursor: string | undefined;
      do {
        const page = await repo.listCalls(db, accountId, { ...request.query, limit: 500, ...(cursor ? { cursor } : {}) });
        if (page === 'bad-cursor') break;
        for (const c of page.items) lines.push(CSV_COLUMNS.map((k) => csvCell(k === 'tags' ? c.tags.join(' ') : c[k])).join(','));
        cursor = page.nextCursor ?? undefined;
      } while (cursor && lines.length < 100_000);
      return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="calls.csv"').send(`${lines.join('\r\n')}\r\n`);
    });

    app.get('/v1/calls/:id', {
      schema: { tags: ['calls'], params: IdParams, response: { 200: CallDetail } },
      config: { roles: ANY_ROLE },
    }, async (request) => {
      const call = await repo.findCall(db, principalOf(request).accountId, request.params.id);
      if (!call) throw ERRORS.notFound('call', request.params.id);
      return call;
    });

    app.post('/v1/calls/:id/tags', {
      schema: { tags: ['calls'], summary: 'Add tags to a call', params: IdParams, body: TagsBody, response: { 200: z.object({ tags: z.array(z.string()) }) } },
      config: { roles: ['admin', 'manager', 'marketer'] },
    }, async (request) => {
      const accountId = principalOf(request).accountId;
      await requireCall(accountId, request.params.id);
      await repo.addTags(db, request.params.id, request.body.tags);
      await modified(accountId, request.params.id, 'tags');
      return { tags: (await repo.findCall(db, accountId, request.params.id))!.tags };
    });

    app.delete('/v1/calls/:id/tags/:tag', {
      schema: { tags: ['calls'], params: IdParams.extend({ tag: z.string().min(1).max(64) }), response: { 204: z.null() } },
      config: { roles: ['admin', 'manager', 'marketer'] },
    }, async (request, reply) => {
      const accountId = principalOf(request).accountId;
      await requireCall(accountId, request.params.id);
      if (!(await repo.removeTag(db, request.params.id, request.params.tag))) throw ERRORS.notFound('tag', request.params.tag);
      await modified(accountId, request.params.id, 'tags');
      return reply.status(204).send(null);
    });

    app.post('/v1/calls/:id/notes', {
      schema: { tags: ['calls'], params: IdParams, body: NoteBody, response: { 201: z.object({ id: z.uuid(), createdAt: z.string() }) } },
      config: { roles: ['admin', 'manager'] },
    }, async (request, reply) => {
      const principal = principalOf(request);
      await requireCall(principal.accountId, request.params.id);
      const note = await repo.addNote(db, request.params.id, principal.name, request.body.text);
      await modified(principal.accountId, request.params.id, 'notes');
      return reply.status(201).send(note);
    });

    app.put('/v1/calls/:id/score', {
      schema: { tags: ['calls'], params: IdParams, body: ScoreBody, response: { 200: ScoreBody } },
      config: { roles: ['admin', 'manager'] },
    }, async (request) => {
      const accountId = principalOf(request).accountId;
      await requireCall(accountId, request.params.id);
      await repo.setScore(db, request.params.id, request.body.score);
      await modified(accountId, request.params.id, 'score');
      return { score: request.body.score };
    });
  };
}
