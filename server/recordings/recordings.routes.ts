import crypto from 'node:crypto';
import fs from 'node:fs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEFAULT_ACCOUNT_ID } from '../auth/auth.schemas.js';
import type { Db } from '../db/pool.js';
import { AppError, ERRORS, ErrorCode } from '../errors.js';
import { ANY_ROLE, bearerToken, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import { findRecording } from './recordings.repository.js';

const URL_TTL_SECONDS = 3600;

/** An <audio> element cannot send a Bearer header, so playback links carry an expiring HMAC instead. */
export function signRecordingToken(secret: string, accountId: string, callId: string, expires: number): string {
  return crypto.createHmac('sha256', secret).update(`${accountId}:${callId}:${expires}`).digest('base64url');
}

const RecordingQuery = z.object({
  format: z.enum(['mp3', 'wav']).default('mp3'),
  expires: z.coerce.number().int().optional(),
  account: z.guid().optional(),
  token: z.string().max(100).optional(),
});

export function recordingRoutes({ db, secret, authenticate }: {
  db: Db; secret: string;
  /** Resolves a bearer key (the route is public so that signed links work without one). */
  authenticate: (key: string) => Promise<{ accountId: string } | undefined>;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/v1/calls/:id/recording-url', {
      schema: { tags: ['recordings'], summary: 'A signed, expiring playback link for browsers', params: IdParams, response: { 200: z.object({ url: z.string(), expiresAt: z.string() }) } },
      config: { roles: ANY_ROLE },
    }, async (request) => {
      const accountId = principalOf(request).accountId;
      const expires = Math.floor(Date.now() / 1000) + URL_TTL_SECONDS;
      const token = signRecordingToken(secret, accountId, request.params.id, expires);
      return { url: `/v1/calls/${request.params.id}/recording?account=${accountId}&expires=${expires}&token=${token}`, expiresAt: new Date(expires * 1000).toISOString() };
    });

    app.get('/v1/calls/:id/recording', {
      schema: { tags: ['recordings'], summary: 'The call recording (stereo: caller left, agent right); supports HTTP Range', params: IdParams, querystring: RecordingQuery },
      config: { public: true },
    }, async (request, reply) => {
      const { id } = request.params;
      const q = request.query;
      let accountId: string | undefined;
      const key = bearerToken(request);
      if (key) accountId = (await authenticate(key))?.accountId;
      else if (q.token && q.expires && q.account) {
        const expected = signRecordingToken(secret, q.account, id, q.expires);
        const valid = expected.length === q.token.length && crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(q.token)) && q.expires * 1000 > Date.now();
        if (valid) accountId = q.account;
      }
      if (!accountId) throw ERRORS.unauthenticated();
      const rec = await findRecording(db, accountId ?? DEFAULT_ACCOUNT_ID, id);
      if (!rec) throw ERRORS.notFound('call', id);
      const file = q.format === 'wav' ? rec.wavPath : rec.mp3Path;
      if (rec.status !== 'ready' || !file || !fs.existsSync(file)) {
        throw new AppError(ErrorCode.notFound, rec.status === 'pending' ? 'the recording is still being processed' : 'this call has no recording', 404);
      }
      const size = fs.statSync(file).size;
      reply.header('accept-ranges', 'bytes').header('content-type', q.format === 'wav' ? 'audio/wav' : 'audio/mpeg').header('cache-control', 'private, max-age=300');
      const range = request.headers.range;
      if (!range) return reply.header('content-length', size).send(fs.createReadStream(file));
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      let start = m?.[1] ? Number(m[1]) : NaN;
      let end = m?.[2] ? Number(m[2]) : size - 1;
      if (m && !m[1] && m[2]) { start = Math.max(0, size - Number(m[2])); end = size - 1; } // suffix range: last N bytes
      if (!m || Number.isNaN(start) || start >= size || end < start) {
        return reply.status(416).header('content-type', 'application/json; charset=utf-8').header('content-range', `bytes */${size}`).send({ error: ErrorCode.validation, message: `range not satisfiable for ${size} bytes` });
      }
      end = Math.min(end, size - 1);
      return reply.status(206).header('content-range', `bytes ${start}-${end}/${size}`).header('content-length', end - start + 1).send(fs.createReadStream(file, { start, end }));
    });
  };
}
