import { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import type { CallEventSink, CallRef } from './call-events.js';
import { findCallView, listCallViews } from './call-view.js';
import { csvLines } from './calls.export.js';
import { toCallDetail, toCallSummary } from './calls.presenter.js';
import * as repo from './calls.repository.js';
import { CallDetail, CallsQuery, CallSummary, NoteBody, ScoreBody, TagsBody, ValueBody } from './calls.schemas.js';

export function callRoutes({ db, events }: { db: Db; events?: CallEventSink | undefined }): FastifyPluginAsyncZod {
  return async (app) => {
    const requireCall = async (accountId: string, id: string): Promise<CallRef> => {
      const call = await repo.findCallRef(db, accountId, id);
      if (!call) throw ERRORS.notFound('call', id);
      return call;
    };
    // The change is saved already; a failing listener (leads outbox) must not turn it into an error for the user.
    const modified = async (log: FastifyBaseLogger, call: CallRef, field: 'tags' | 'notes' | 'score' | 'value') => {
      await events
        ?.callModified(db, call, { field })
        .catch((err: unknown) => log.warn({ err, callId: call.callId, field, type: 'call_modified_event_failed' }, 'callModified listener failed'));
    };
    const checkPeriod = (q: { from?: string | undefined; to?: string | undefined }) => {
      if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw ERRORS.validation('querystring: "from" is after "to"');
    };

    app.get(
      '/v1/calls',
      {
        schema: {
          tags: ['calls'],
          summary: 'Call log, newest first, keyset-paged',
          querystring: CallsQuery,
          response: { 200: z.object({ items: z.array(CallSummary), nextCursor: z.string().nullable() }) },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        checkPeriod(request.query);
        const page = await listCallViews(db, principalOf(request).accountId, request.query);
        if (page === 'bad-cursor') throw ERRORS.validation('querystring.cursor: not a cursor this API returned');
        return { items: page.items.map(toCallSummary), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/v1/calls/export.csv',
      {
        schema: {
          tags: ['calls'],
          summary: 'The filtered call log as CSV (streamed, newest first)',
          // No response schema: the body is a text/csv stream, not JSON.
          querystring: CallsQuery.omit({ limit: true, cursor: true }),
        },
        config: { roles: ANY_ROLE },
      },
      async (request, reply) => {
        checkPeriod(request.query);
        const stream = Readable.from(csvLines(db, principalOf(request).accountId, request.query, request.log));
        return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="calls.csv"').send(stream);
      },
    );

    app.get(
      '/v1/calls/:id',
      {
        schema: { tags: ['calls'], summary: 'One call with attribution, tags, notes and recording', params: IdParams, response: { 200: CallDetail } },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const call = await findCallView(db, principalOf(request).accountId, request.params.id);
        if (!call) throw ERRORS.notFound('call', request.params.id);
        return toCallDetail(call);
      },
    );

    app.post(
      '/v1/calls/:id/tags',
      {
        schema: {
          tags: ['calls'],
          summary: 'Add tags to a call',
          params: IdParams,
          body: TagsBody,
          response: { 200: z.object({ tags: z.array(z.string()) }) },
        },
        config: { roles: ['admin', 'manager', 'marketer'] },
      },
      async (request) => {
        const accountId = principalOf(request).accountId;
        const call = await requireCall(accountId, request.params.id);
        const added = await repo.addTags(db, request.params.id, request.body.tags);
        if (added > 0) await modified(request.log, call, 'tags');
        return { tags: await repo.listTags(db, request.params.id) };
      },
    );

    app.delete(
      '/v1/calls/:id/tags/:tag',
      {
        schema: {
          tags: ['calls'],
          summary: 'Remove a tag from a call',
          params: IdParams.extend({ tag: z.string().min(1).max(64) }),
          response: { 204: z.null() },
        },
        config: { roles: ['admin', 'manager', 'marketer'] },
      },
      async (request, reply) => {
        const accountId = principalOf(request).accountId;
        const call = await requireCall(accountId, request.params.id);
        if (!(await repo.removeTag(db, request.params.id, request.params.tag))) throw ERRORS.notFound('tag', request.params.tag);
        await modified(request.log, call, 'tags');
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/v1/calls/:id/notes',
      {
        schema: {
          tags: ['calls'],
          summary: 'Add a note to a call',
          params: IdParams,
          body: NoteBody,
          response: { 201: z.object({ id: z.uuid(), author: z.string(), text: z.string(), createdAt: z.string() }) },
        },
        config: { roles: ['admin', 'manager'] },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const call = await requireCall(principal.accountId, request.params.id);
        const note = await repo.addNote(db, request.params.id, principal.name, request.body.text);
        await modified(request.log, call, 'notes');
        return reply.status(201).send(note);
      },
    );

    app.put(
      '/v1/calls/:id/score',
      {
        schema: { tags: ['calls'], summary: 'Score a call 0..100 (null clears)', params: IdParams, body: ScoreBody, response: { 200: ScoreBody } },
        config: { roles: ['admin', 'manager'] },
      },
      async (request) => {
        const accountId = principalOf(request).accountId;
        const call = await requireCall(accountId, request.params.id);
        await repo.setScore(db, request.params.id, request.body.score);
        await modified(request.log, call, 'score');
        return { score: request.body.score };
      },
    );

    app.put(
      '/v1/calls/:id/value',
      {
        schema: { tags: ['calls'], summary: 'Set the money a call brought (null clears)', params: IdParams, body: ValueBody, response: { 200: ValueBody } },
        config: { roles: ['admin', 'manager'] },
      },
      async (request) => {
        const accountId = principalOf(request).accountId;
        const call = await requireCall(accountId, request.params.id);
        const value = await repo.setValue(db, request.params.id, request.body.value);
        await modified(request.log, call, 'value');
        return { value };
      },
    );
  };
}
