import { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import type { CallEventSink } from './call-events.js';
import * as repo from './calls.repository.js';
import { CallDetail, CallsQuery, CallSummary, NoteBody, ScoreBody, TagsBody, ValueBody } from './calls.schemas.js';

/**
 * One CSV cell (RFC 4180 quoting). A text cell starting with = + - @ (or a tab/CR) would run as a
 * formula when the file is opened in a spreadsheet, so it gets a leading apostrophe; a plain number
 * such as an E.164 "+74951234567" or "-5" cannot run anything and stays as it is.
 */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  const risky = /^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?$/.test(s);
  const safe = risky ? `'${s}` : s;
  return /[",\n\r;]/.test(safe) || risky ? `"${safe.replaceAll('"', '""')}"` : safe;
}

type ExportRow = { r: repo.CallRow; s: ReturnType<typeof repo.sourceOf>; a: Record<string, unknown> };
const text = (v: unknown) => (typeof v === 'string' ? v : null);
const CSV_COLUMNS: Array<[string, (x: ExportRow) => unknown]> = [
  ['id', ({ r }) => r.id],
  ['started_at', ({ r }) => r.started_at.toISOString()],
  ['answered_at', ({ r }) => r.answered_at?.toISOString()],
  ['ended_at', ({ r }) => r.ended_at?.toISOString()],
  ['caller', ({ r }) => r.caller],
  ['tracking_number', ({ r }) => r.tracking_number],
  ['disposition', ({ r }) => r.disposition],
  ['talk_seconds', ({ r }) => r.talk_seconds],
  ['ring_seconds', ({ r }) => r.ring_seconds],
  ['answered_by', ({ r }) => r.answered_by],
  ['source', ({ s }) => s.source],
  ['medium', ({ s }) => s.medium],
  ['campaign', ({ s }) => s.campaign],
  ['keyword', ({ s }) => s.keyword],
  ['landing_page', ({ a }) => text(a.landingPage)],
  ['referrer', ({ a }) => text(a.referrer)],
  ['confidence', ({ r }) => r.confidence],
  ['first_time', ({ r }) => r.first_time],
  ['prior_calls', ({ r }) => r.prior_calls],
  ['ivr_digits', ({ r }) => r.ivr_digits],
  ['score', ({ r }) => r.score],
  ['value', ({ r }) => r.value],
  ['tags', ({ r }) => (r.tags ?? []).join(' ')],
];
const csvRow = (r: repo.CallRow) => {
  const x: ExportRow = { r, s: repo.sourceOf(r), a: r.attribution ?? {} };
  return `${CSV_COLUMNS.map(([, get]) => csvCell(get(x))).join(',')}\r\n`;
};
const EXPORT_PAGE = 1000;
/** A bound on one export (≈ 30 MB); past it the file ends with a marker row instead of growing forever. */
const EXPORT_MAX_ROWS = 200_000;

/** Pages through the filtered log by keyset and yields CSV lines, so memory stays flat however long the export. */
async function* csvLines(db: Db, accountId: string, filters: repo.CallFilters, log: FastifyBaseLogger): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.map(([name]) => name).join(',')}\r\n`;
  let cursor: string | undefined;
  let rows = 0;
  try {
    do {
      const page = await repo.listCallRows(db, accountId, { ...filters, limit: EXPORT_PAGE, ...(cursor ? { cursor } : {}) });
      if (page === 'bad-cursor') return; // cannot happen: we made the cursor ourselves
      yield page.rows.map(csvRow).join('');
      rows += page.rows.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor && rows < EXPORT_MAX_ROWS);
    if (cursor) yield `# truncated after ${rows} rows: narrow the period\r\n`;
  } catch (err) {
    // Headers are gone already: the best we can do is end the file visibly broken and log why.
    log.error({ err, type: 'calls_export_failed' }, 'calls CSV export failed mid-stream');
    yield '# export failed: the file is incomplete\r\n';
  }
}

export function callRoutes({ db, events }: { db: Db; events?: CallEventSink | undefined }): FastifyPluginAsyncZod {
  return async (app) => {
    const requireCall = async (accountId: string, id: string) => {
      if (!(await repo.callExists(db, accountId, id))) throw ERRORS.notFound('call', id);
    };
    // The change is saved already; a failing listener (leads outbox) must not turn it into an error for the user.
    const modified = async (log: FastifyBaseLogger, accountId: string, callId: string, field: 'tags' | 'notes' | 'score' | 'value') => {
      await events
        ?.callModified(db, { callId, accountId }, { field })
        .catch((err: unknown) => log.warn({ err, callId, field, type: 'call_modified_event_failed' }, 'callModified listener failed'));
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
        const page = await repo.listCalls(db, principalOf(request).accountId, request.query);
        if (page === 'bad-cursor') throw ERRORS.validation('querystring.cursor: not a cursor this API returned');
        return page;
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
        const call = await repo.findCall(db, principalOf(request).accountId, request.params.id);
        if (!call) throw ERRORS.notFound('call', request.params.id);
        return call;
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
        await requireCall(accountId, request.params.id);
        const added = await repo.addTags(db, request.params.id, request.body.tags);
        if (added > 0) await modified(request.log, accountId, request.params.id, 'tags');
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
        await requireCall(accountId, request.params.id);
        if (!(await repo.removeTag(db, request.params.id, request.params.tag))) throw ERRORS.notFound('tag', request.params.tag);
        await modified(request.log, accountId, request.params.id, 'tags');
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
        await requireCall(principal.accountId, request.params.id);
        const note = await repo.addNote(db, request.params.id, principal.name, request.body.text);
        await modified(request.log, principal.accountId, request.params.id, 'notes');
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
        await requireCall(accountId, request.params.id);
        await repo.setScore(db, request.params.id, request.body.score);
        await modified(request.log, accountId, request.params.id, 'score');
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
        await requireCall(accountId, request.params.id);
        const value = await repo.setValue(db, request.params.id, request.body.value);
        await modified(request.log, accountId, request.params.id, 'value');
        return { value };
      },
    );
  };
}
