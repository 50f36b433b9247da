import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS } from '../errors.js';
import { principalOf } from '../http/auth.js';
import { DialplanName, ErrorBody } from '../shared/schemas.js';
import type { DialplanRegistry } from './dialplan-registry.js';
import { Dialplan, parseDialplan } from './dialplan.schemas.js';
import { deleteStored, listVersions, saveVersion, type StoredDialplans } from './stored-dialplans.js';

/** The plan as JSON (the YAML's structure) or as YAML text, e.g. pasted from a file. */
const Definition = z.union([z.string().max(256 * 1024), z.record(z.string(), z.unknown())]).meta({
  description: 'the plan without its name: { steps: [...] } as JSON, or the same as YAML text',
});
const CreateBody = z.object({ name: DialplanName, definition: Definition, note: z.string().max(500).optional() });
const UpdateBody = z.object({ definition: Definition, note: z.string().max(500).optional() });
const Saved = z.object({ name: z.string(), version: z.number().int(), plan: Dialplan });
const Version = z.object({ version: z.number().int(), plan: Dialplan, savedBy: z.string().nullable(), note: z.string().nullable(), createdAt: z.string() });
const NameParams = z.object({ name: DialplanName });

/** The definition checked by the same schema as the YAML files; a 400 names the path of what is wrong. */
function validPlan(name: string, definition: string | Record<string, unknown>): Dialplan {
  let body: unknown = definition;
  if (typeof definition === 'string') {
    try {
      body = parseYaml(definition);
    } catch (err) {
      throw ERRORS.validation(`definition: not valid YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ERRORS.validation('definition: expected a map with steps');
  const parsed = parseDialplan({ ...(body as Record<string, unknown>), name });
  if (!parsed.ok) throw ERRORS.validation(parsed.error);
  return parsed.plan;
}

const BOUND = `SELECT 'number ' || number FROM numbers WHERE account_id = $1 AND dialplan = $2
  UNION ALL SELECT 'pool ' || name FROM pools WHERE account_id = $1 AND dialplan = $2
  UNION ALL SELECT 'source ' || name FROM sources WHERE account_id = $1 AND dialplan = $2
  UNION ALL SELECT 'site ' || name FROM sites WHERE account_id = $1 AND dialplan = $2 LIMIT 5`;

/**
 * Call flows saved in the app: every save is a new version (the newest routes calls, on every node
 * within seconds); rollback saves an old version again. Names of YAML files stay theirs (read-only).
 */
export function storedDialplanRoutes({ db, stored, files }: { db: Db; stored: StoredDialplans; files: Pick<DialplanRegistry, 'has'> }): FastifyPluginAsyncZod {
  return async (app) => {
    const save = async (accountId: string, name: string, plan: Dialplan, savedBy: string | null, note: string | null) => {
      const version = await saveVersion(db, { accountId, name, plan, savedBy, note });
      await stored.refresh().catch(() => undefined);
      return { name, version, plan };
    };
    const refuseFile = (name: string) => {
      if (files.has(name))
        throw ERRORS.conflict(`dialplan ${name} comes from dialplans/${name}.yaml and is read-only here (edit the file, or save under another name)`);
    };

    app.post(
      '/v1/dialplans',
      {
        schema: {
          tags: ['dialplans'],
          summary: 'Save a new call flow (version 1); 400 names the path of a mistake',
          body: CreateBody,
          response: { 201: Saved, 400: ErrorBody, 409: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { name } = request.body;
        refuseFile(name);
        const plan = validPlan(name, request.body.definition);
        if ((await listVersions(db, principal.accountId, name)).length > 0)
          throw ERRORS.conflict(`dialplan ${name} exists: PUT /v1/dialplans/${name} saves a new version`);
        return reply.status(201).send(await save(principal.accountId, name, plan, principal.name ?? null, request.body.note ?? null));
      },
    );

    app.post(
      '/v1/dialplans/validate',
      {
        schema: {
          tags: ['dialplans'],
          summary: 'Check a call flow without saving it',
          body: CreateBody.omit({ note: true }),
          response: { 200: z.object({ plan: Dialplan }), 400: ErrorBody },
        },
        config: { roles: ['admin', 'manager'] },
      },
      async (request) => ({ plan: validPlan(request.body.name, request.body.definition) }),
    );

    app.put(
      '/v1/dialplans/:name',
      {
        schema: {
          tags: ['dialplans'],
          summary: 'Save a new version of a call flow (the next call uses it)',
          params: NameParams,
          body: UpdateBody,
          response: { 200: Saved, 400: ErrorBody, 404: ErrorBody, 409: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const principal = principalOf(request);
        const { name } = request.params;
        refuseFile(name);
        const plan = validPlan(name, request.body.definition);
        if ((await listVersions(db, principal.accountId, name)).length === 0) throw ERRORS.notFound('dialplan', name);
        return save(principal.accountId, name, plan, principal.name ?? null, request.body.note ?? null);
      },
    );

    app.get(
      '/v1/dialplans/:name/versions',
      {
        schema: {
          tags: ['dialplans'],
          summary: 'Saved versions, newest first',
          params: NameParams,
          response: { 200: z.object({ items: z.array(Version) }), 404: ErrorBody },
        },
        config: { roles: ['admin', 'manager'] },
      },
      async (request) => {
        const items = await listVersions(db, principalOf(request).accountId, request.params.name);
        if (items.length === 0) throw ERRORS.notFound('dialplan', request.params.name);
        return { items };
      },
    );

    app.post(
      '/v1/dialplans/:name/rollback',
      {
        schema: {
          tags: ['dialplans'],
          summary: 'Save an earlier version again as the newest (history keeps every version)',
          params: NameParams,
          body: z.object({ version: z.number().int().min(1) }),
          response: { 200: Saved, 404: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const principal = principalOf(request);
        const { name } = request.params;
        const old = (await listVersions(db, principal.accountId, name)).find((v) => v.version === request.body.version);
        if (!old) throw ERRORS.notFound(`version ${request.body.version} of dialplan`, name);
        const plan = validPlan(name, old.plan as unknown as Record<string, unknown>);
        return save(principal.accountId, name, plan, principal.name ?? null, `rollback to version ${old.version}`);
      },
    );

    app.delete(
      '/v1/dialplans/:name',
      {
        schema: {
          tags: ['dialplans'],
          summary: 'Delete a saved call flow and its history (refused while numbers, pools, sources or sites use it)',
          params: NameParams,
          response: { 204: z.null(), 404: ErrorBody, 409: ErrorBody },
        },
        config: { roles: ['admin'] },
      },
      async (request, reply) => {
        const { accountId } = principalOf(request);
        const { name } = request.params;
        const bound = (await db.query<{ '?column?': string }>(BOUND, [accountId, name])).rows.map((r) => Object.values(r)[0]);
        if (bound.length > 0) throw ERRORS.conflict(`dialplan ${name} is in use by ${bound.join(', ')}: bind them elsewhere first`);
        if (!(await deleteStored(db, accountId, name))) throw ERRORS.notFound('dialplan', name);
        await stored.refresh().catch(() => undefined);
        return reply.status(204).send(null);
      },
    );
  };
}
