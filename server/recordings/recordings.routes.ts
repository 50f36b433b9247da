import crypto from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../auth/auth.schemas.js';
import type { Db } from '../db/pool.js';
import { AppError, ERRORS, ErrorCode } from '../errors.js';
import { ANY_ROLE, bearerToken, type CredentialResolver, principalOf } from '../http/auth.js';
import { ErrorBody, IdParams } from '../shared/schemas.js';
import { createLocalRecordingStorage, type RecordingStorage } from './recording-storage.js';
import { signRecordingToken } from './recording-links.js';
import { findRecording, requestRecordingRetry } from './recordings.repository.js';
import { parseRange } from './http-range.js';

const URL_TTL_SECONDS = 3600;
const CONTENT_TYPES = { mp3: 'audio/mpeg', wav: 'audio/wav' } as const;

function validToken(
  secret: string,
  q: { account?: string | undefined; expires?: number | undefined; token?: string | undefined },
  callId: string,
): string | undefined {
  if (!q.account || !q.expires || !q.token || q.expires * 1000 <= Date.now()) return undefined;
  const expected = Buffer.from(signRecordingToken(secret, q.account, callId, q.expires));
  const given = Buffer.from(q.token);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? q.account : undefined;
}

const RecordingQuery = z.object({
  format: z.enum(['mp3', 'wav']).default('mp3'),
  expires: z.coerce.number().int().positive().optional(),
  account: z.guid().optional(), // guid: the default account's id is not an RFC 4122 UUID
  token: z.string().max(100).optional(),
});

/**
 * Recording playback. `GET /v1/calls/:id/recording` is declared public and authenticates itself:
 * the app's credentials (Bearer key, any role) or a signed link from `/recording-url`, because an <audio> element cannot
 * send headers (a web session cookie is accepted too). The token is checked here rather than by a global CredentialResolver on purpose:
 * a leaked link must open this one file, not act as a credential for the rest of /v1.
 */
export function recordingRoutes({
  db,
  secret,
  credentials,
  storage = createLocalRecordingStorage('.'),
}: {
  db: Db;
  secret: string;
  /** The app's credential resolvers (API key, web session), tried before a signed link. */
  credentials: CredentialResolver[];
  /** Stored paths are absolute, so the default local storage needs no root. */
  storage?: RecordingStorage;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/calls/:id/recording/retry',
      {
        schema: {
          tags: ['recordings'],
          summary: 'Convert a failed (or stuck) recording again; the sweeper takes it within 30 s',
          params: IdParams,
          response: { 202: z.object({ recordingStatus: z.literal('failed'), retry: z.literal('queued') }), 404: ErrorBody, 409: ErrorBody },
        },
        config: { roles: ['admin', 'manager'] },
      },
      async (request, reply) => {
        const { accountId } = principalOf(request);
        const rec = await findRecording(db, accountId, request.params.id);
        if (!rec) throw ERRORS.notFound('call', request.params.id);
        if (!(await requestRecordingRetry(db, accountId, request.params.id))) {
          throw ERRORS.conflict(`the call's recording is ${rec.status}: there is nothing to convert again`);
        }
        return reply.status(202).send({ recordingStatus: 'failed', retry: 'queued' });
      },
    );

    app.get(
      '/v1/calls/:id/recording-url',
      {
        schema: {
          tags: ['recordings'],
          summary: 'A signed, expiring playback link for <audio> (no Authorization header needed)',
          params: IdParams,
          response: { 200: z.object({ url: z.string(), expiresAt: z.string() }), 404: ErrorBody },
        },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const { accountId } = principalOf(request);
        const rec = await findRecording(db, accountId, request.params.id);
        if (!rec) throw ERRORS.notFound('call', request.params.id);
        if (rec.status !== 'ready') throw noRecording(rec.status);
        const expires = Math.floor(Date.now() / 1000) + URL_TTL_SECONDS;
        const token = signRecordingToken(secret, accountId, request.params.id, expires);
        return {
          url: `/v1/calls/${request.params.id}/recording?account=${accountId}&expires=${expires}&token=${token}`,
          expiresAt: new Date(expires * 1000).toISOString(),
        };
      },
    );

    app.get(
      '/v1/calls/:id/recording',
      {
        schema: {
          tags: ['recordings'],
          summary: 'The call recording (stereo: caller left, agent right), MP3 or ?format=wav; supports HTTP Range',
          params: IdParams,
          querystring: RecordingQuery,
          // Audio bytes (a stream: fastify does not run the serializer on it).
          response: {
            200: z.any().describe('audio/mpeg or audio/wav'),
            206: z.any().describe('the requested bytes'),
            401: ErrorBody,
            403: ErrorBody,
            404: ErrorBody,
            416: ErrorBody,
          },
        },
        config: { public: true },
      },
      async (request, reply) => {
        const { id } = request.params;
        const q = request.query;
        let principal: Principal | undefined;
        for (const resolve of credentials) if (!principal) principal = await resolve(request);
        if (principal && !ANY_ROLE.includes(principal.role)) throw ERRORS.forbidden(ANY_ROLE);
        // A wrong bearer key is an error even with a valid link: credentials are never silently ignored.
        const accountId = principal?.accountId ?? (bearerToken(request) ? undefined : validToken(secret, q, id));
        if (!accountId) throw ERRORS.unauthenticated();
        const rec = await findRecording(db, accountId, id);
        if (!rec) throw ERRORS.notFound('call', id);
        const file = q.format === 'wav' ? rec.wavPath : rec.mp3Path;
        const size = rec.status === 'ready' && file ? await storage.size(file) : undefined;
        if (!file || size === undefined) throw noRecording(rec.status);
        reply.header('accept-ranges', 'bytes').header('content-type', CONTENT_TYPES[q.format]).header('cache-control', 'private, max-age=300');
        const range = parseRange(request.headers.range, size);
        if (range === 'unsatisfiable') {
          return reply
            .status(416)
            .header('content-range', `bytes */${size}`)
            .header('content-type', 'application/json; charset=utf-8')
            .send({ error: ErrorCode.validation, message: `range ${request.headers.range} not satisfiable: the file has ${size} bytes` });
        }
        if (!range) return reply.header('content-length', size).send(storage.read(file));
        return reply
          .status(206)
          .header('content-range', `bytes ${range.start}-${range.end}/${size}`)
          .header('content-length', range.end - range.start + 1)
          .send(storage.read(file, range));
      },
    );
  };
}

function noRecording(status: string): AppError {
  const why =
    status === 'pending'
      ? 'the recording is still being processed'
      : status === 'failed'
        ? 'the recording of this call could not be converted'
        : 'this call has no recording';
  return new AppError(ErrorCode.notFound, why, 404);
}
