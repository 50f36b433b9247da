import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ERRORS } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import type { PasswordResetService } from './password-reset.service.js';
import { RESET_LINK_MINUTES } from './password-reset.service.js';
import { readCookie } from '../http/cookies.js';
import { clearSessionCookie, SESSION_COOKIE } from './sign-in-session.js';
import { Email, Password } from './users.schemas.js';
import type { UserService } from './users.service.js';

const SessionItem = z.object({
  id: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  userAgent: z.string().nullable(),
  current: z.boolean().meta({ description: 'the session of this request' }),
});
const SessionIdParams = z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, 'a session id from GET /v1/auth/sessions') });

const RESET_WINDOW_MS = 15 * 60_000;
const MAX_RESETS_PER_ADDRESS = 5;

/**
 * What a signed-in person manages about their own access: open sessions, "sign out everywhere",
 * and "forgot password" for admins through a one-time link printed in the server log (no mail server assumed).
 */
export function accountRoutes({
  users,
  resets,
  publicBaseUrl,
}: {
  users: UserService;
  resets: PasswordResetService;
  publicBaseUrl: string;
}): FastifyPluginAsyncZod {
  const requests = new Map<string, { count: number; since: number }>();
  const userIdOf = (request: Parameters<typeof principalOf>[0]) => {
    const userId = principalOf(request).userId;
    if (!userId) throw ERRORS.validation('API keys have no browser sessions: sign in as a user');
    return userId;
  };

  return async (app) => {
    app.get(
      '/v1/auth/sessions',
      {
        schema: { tags: ['access'], summary: 'My open browser sessions, newest activity first', response: { 200: z.object({ items: z.array(SessionItem) }) } },
        config: { roles: ANY_ROLE },
      },
      async (request) => ({ items: await users.sessions(userIdOf(request), readCookie(request.headers.cookie, SESSION_COOKIE)) }),
    );

    app.delete(
      '/v1/auth/sessions/:id',
      {
        schema: {
          tags: ['access'],
          summary: 'End one of my sessions (e.g. a browser left signed in elsewhere)',
          params: SessionIdParams,
          response: { 204: z.null() },
        },
        config: { roles: ANY_ROLE },
      },
      async (request, reply) => {
        if (!(await users.endSession(userIdOf(request), request.params.id))) throw ERRORS.notFound('session', request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/v1/auth/sign-out-everywhere',
      {
        schema: { tags: ['access'], summary: 'End every session of mine, this one included', response: { 204: z.null() } },
        config: { roles: ANY_ROLE },
      },
      async (request, reply) => {
        await users.endSessions(userIdOf(request));
        clearSessionCookie(request, reply);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/v1/auth/password-reset',
      {
        schema: {
          tags: ['access'],
          summary: `Forgot password (admins): a one-time link valid ${RESET_LINK_MINUTES} min is written to the server log. Same answer whether or not the e-mail exists`,
          body: z.object({ email: Email }),
          response: { 202: z.object({ message: z.string() }) },
        },
        config: { public: true },
      },
      async (request, reply) => {
        const key = request.ip;
        const seen = requests.get(key);
        const fresh = !seen || Date.now() - seen.since >= RESET_WINDOW_MS;
        if (!fresh && seen.count >= MAX_RESETS_PER_ADDRESS) throw ERRORS.rateLimited();
        requests.set(key, { count: fresh ? 1 : seen.count + 1, since: fresh ? Date.now() : seen.since });
        if (requests.size > 10_000) requests.clear();
        const link = await resets.request(request.body.email);
        if (link) {
          request.log.warn(
            { type: 'password_reset_link', email: link.email, expiresAt: link.expiresAt.toISOString() },
            `password reset for ${link.email}: ${publicBaseUrl}/reset-password?token=${link.token} (one use, ${RESET_LINK_MINUTES} min)`,
          );
        }
        return reply.status(202).send({ message: 'If this e-mail belongs to an admin, a one-time reset link has been written to the server log.' });
      },
    );

    app.post(
      '/v1/auth/password-reset/confirm',
      {
        schema: {
          tags: ['access'],
          summary: 'Set a new password with the one-time link; ends every session of that user',
          body: z.object({ token: z.string().min(1).max(200), password: Password }),
          response: { 204: z.null() },
        },
        config: { public: true },
      },
      async (request, reply) => {
        await resets.confirm(request.body.token, request.body.password);
        return reply.status(204).send(null);
      },
    );
  };
}
