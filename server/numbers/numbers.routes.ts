import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { type DialplanCatalog, DialplanBinding, DialplanBindingBody } from '../dialplans/dialplan-catalog.js';
import { ERRORS, PG_UNIQUE_VIOLATION, pgErrorCode } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { MAX_BULK_LINES, parseBulkNumbers, splitLines } from './numbers-bulk.js';
import * as repo from './numbers.repository.js';
import {
  BulkNumbersBody,
  BulkNumbersQuery,
  BulkNumbersReport,
  CreateNumberBody,
  ListNumbersQuery,
  NumberGroup,
  NumberParams,
  NumbersPage,
  TrackingNumber,
} from './numbers.schemas.js';
import { searchDigits } from './numbers.service.js';

export function checkDialplan(dialplans: DialplanCatalog, name: string | null | undefined, accountId: string): void {
  if (name && !dialplans.has(name, accountId))
    throw ERRORS.validation(`dialplan "${name}" does not exist (neither stored with /v1/dialplans nor loaded from dialplans/${name}.yaml)`);
}

export function numberRoutes({ db, dialplans, onChange }: { db: Db; dialplans: DialplanCatalog; onChange?: () => void }): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/numbers',
      {
        schema: { tags: ['provisioning'], summary: 'Add a tracking number on a trunk', body: CreateNumberBody, response: { 201: TrackingNumber } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        checkDialplan(dialplans, request.body.dialplan, principalOf(request).accountId);
        const accountId = principalOf(request).accountId;
        try {
          const created = await repo.insertNumber(db, { accountId, ...request.body });
          if (!created) throw ERRORS.validation(`trunk ${request.body.trunkId} does not exist`);
          onChange?.();
          return reply.status(201).send(created);
        } catch (err) {
          if (pgErrorCode(err) === PG_UNIQUE_VIOLATION) throw ERRORS.conflict(`number ${request.body.number} is already provisioned`);
          throw err;
        }
      },
    );

    app.get(
      '/v1/numbers',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'List tracking numbers a page at a time; search by digits in any format; filter by pool, source or free',
          querystring: ListNumbersQuery,
          response: { 200: NumbersPage },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const { q, ...page } = request.query;
        return repo.pageNumbers(db, principalOf(request).accountId, { ...page, digits: q === undefined ? undefined : searchDigits(q) });
      },
    );

    app.get(
      '/v1/numbers/groups',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'Numbers per pool, per static source, and free',
          response: { 200: z.object({ items: z.array(NumberGroup) }) },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: await repo.numberGroups(db, principalOf(request).accountId) }),
    );

    // A CSV file or a pasted list can be sent as it is; JSON bodies carry { lines } or { text }.
    app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));
    app.post(
      '/v1/numbers/bulk',
      {
        schema: {
          tags: ['provisioning'],
          summary:
            'Add many numbers from a pasted list or CSV (first column). Good lines are stored together in one transaction; each bad line is reported with its reason',
          querystring: BulkNumbersQuery,
          body: z.union([BulkNumbersBody, z.string().max(1_000_000)]),
          response: { 200: BulkNumbersReport },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const raw = request.body;
        const body = typeof raw === 'string' ? { text: raw, lines: undefined, dialplan: undefined, ...request.query } : raw;
        if (!body.trunkId) throw ERRORS.validation('trunkId is required (in the query string for a text or CSV body)');
        checkDialplan(dialplans, body.dialplan, principalOf(request).accountId);
        const lines = body.text !== undefined ? splitLines(body.text) : (body.lines ?? []).map((text, i) => ({ line: i + 1, text }));
        if (lines.length > MAX_BULK_LINES) throw ERRORS.validation(`at most ${MAX_BULK_LINES} lines at once`);
        const { good, bad } = parseBulkNumbers(lines, body.defaultCountry);
        const accountId = principalOf(request).accountId;
        const stored =
          good.length === 0
            ? { added: [], existing: [] }
            : await repo.insertNumbersBulk(db, { accountId, numbers: good.map((g) => g.number), trunkId: body.trunkId, dialplan: body.dialplan });
        if (!stored) throw ERRORS.validation(`trunk ${body.trunkId} does not exist`);
        const existing = new Set(stored.existing);
        const rejected = [
          ...bad,
          ...good.filter((g) => existing.has(g.number)).map((g) => ({ line: g.line, text: g.text, reason: `${g.number} is already provisioned` })),
        ].sort((a, b) => a.line - b.line);
        if (stored.added.length > 0) onChange?.();
        return { added: good.filter((g) => !existing.has(g.number)).map((g) => ({ line: g.line, number: g.number })), rejected };
      },
    );

    app.get(
      '/v1/numbers/:number',
      {
        schema: { tags: ['provisioning'], params: NumberParams, response: { 200: TrackingNumber } },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const found = await repo.findNumber(db, principalOf(request).accountId, request.params.number);
        if (!found) throw ERRORS.numberNotFound(request.params.number);
        return found;
      },
    );

    app.put(
      '/v1/numbers/:number/dialplan',
      {
        schema: {
          tags: ['provisioning'],
          summary: 'Bind a dialplan to a number (most specific binding wins)',
          params: NumberParams,
          body: DialplanBindingBody,
          response: { 200: DialplanBinding },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        checkDialplan(dialplans, request.body.dialplan, principalOf(request).accountId);
        if (!(await repo.setNumberDialplan(db, principalOf(request).accountId, request.params.number, request.body.dialplan))) {
          throw ERRORS.numberNotFound(request.params.number);
        }
        onChange?.();
        return { dialplan: request.body.dialplan };
      },
    );

    app.delete(
      '/v1/numbers/:number',
      {
        schema: { tags: ['provisioning'], params: NumberParams, response: { 204: z.null() } },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        if (!(await repo.deleteNumber(db, principalOf(request).accountId, request.params.number))) throw ERRORS.numberNotFound(request.params.number);
        onChange?.();
        return reply.status(204).send(null);
      },
    );
  };
}
