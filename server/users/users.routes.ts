import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../db/pool.js';
import { ERRORS, AppError, ErrorCode } from '../errors.js';
import { ANY_ROLE, principalOf } from '../http/auth.js';
import { IdParams } from '../shared/schemas.js';
import { publicUser } from './users.repository.js';
import * as repo from './users.repository.js';
import { CreateUserBody, Listen, SessionView, SignInBody, UpdateUserBody, User } from './users.schemas.js';
import type { UserService } from './users.service.js';
import { readCookie } from '../http/cookies.js';
import { clearSessionCookie, SESSION_COOKIE, setSessionCookie } from './sign-in-session.js';

const FAILURE_WINDOW_MS = 15 * 60_000;
const MAX_FAILURES = 10;

/**
 * A token bucket over all sign-ins: each attempt costs a bcrypt check, so attempts from many addresses
 * (random e-mails included) are capped as a whole, besides the per-address limit.
 */
function createGlobalSignInLimit(perSecond: number): () => boolean {
  let tokens = perSecond;
  let at = Date.now();
  return () => {
    const now = Date.now();
    tokens = Math.min(perSecond, tokens + ((now - at) / 1000) * perSecond);
    at = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
}

/** Sign-in/out, the current session, users management (admin) and recording listen events. */
export function userRoutes({ users, db, signInPerSecond = 20 }: { users: UserService; db: Db; signInPerSecond?: number }): FastifyPluginAsyncZod {
  // Failed sign-ins per e-mail+address: slows password guessing without locking the real user out for long.
  const failures = new Map<string, { count: number; since: number }>();
  const globalSignIn = createGlobalSignInLimit(signInPerSecond);

  return async (app) => {
    app.post(
      '/v1/auth/sign-in',
      {
        schema: {
          tags: ['access'],
          summary: 'Sign in with e-mail and password; sets the HttpOnly session cookie',
          body: SignInBody,
          response: { 200: SessionView },
        },
        config: { public: true },
      },
      async (request, reply) => {
        const key = `${request.body.email}|${request.ip}`;
        const f = failures.get(key);
        if (f && Date.now() - f.since < FAILURE_WINDOW_MS && f.count >= MAX_FAILURES) throw ERRORS.rateLimited();
        if (!globalSignIn()) {
          reply.header('retry-after', '1');
          throw ERRORS.rateLimited();
        }
        const session = await users.signIn(request.body.email, request.body.password, request.headers['user-agent']);
        if (!session) {
          const fresh = !f || Date.now() - f.since >= FAILURE_WINDOW_MS;
          failures.set(key, { count: fresh ? 1 : f.count + 1, since: fresh ? Date.now() : f.since });
          if (failures.size > 10_000) failures.clear();
          throw new AppError(ErrorCode.unauthenticated, 'wrong e-mail or password', 401);
        }
        failures.delete(key);
        setSessionCookie(request, reply, session.token, session.maxAgeSeconds);
        const user = publicUser(session.user);
        return { user, principal: { name: user.email, role: user.role }, csrfToken: users.csrfFor(session.token) };
      },
    );

    app.post(
      '/v1/auth/sign-out',
      {
        schema: { tags: ['access'], summary: 'End the browser session', response: { 204: z.null() } },
        config: { public: true },
      },
      async (request, reply) => {
        const token = readCookie(request.headers.cookie, SESSION_COOKIE);
        if (token) await users.signOut(token);
        clearSessionCookie(request, reply);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/v1/auth/session',
      {
        schema: { tags: ['access'], summary: 'Who is calling, and the CSRF token for a cookie session', response: { 200: SessionView } },
        config: { roles: ANY_ROLE },
      },
      async (request) => {
        const p = principalOf(request);
        const token = readCookie(request.headers.cookie, SESSION_COOKIE);
        const user = p.userId && token ? await users.resolveSession(token) : undefined;
        return {
          user: user ? publicUser(user) : null,
          principal: { name: p.name, role: p.role },
          csrfToken: user && token ? users.csrfFor(token) : null,
        };
      },
    );

    app.post(
      '/v1/users',
      {
        schema: {
          tags: ['access'],
          summary: 'Create a browser user (the first admin user is created with ADMIN_API_KEY)',
          body: CreateUserBody,
          response: { 201: User },
        },
        config: { roles: ['admin'] },
      },
      async (request, reply) => reply.status(201).send(publicUser(await users.create(principalOf(request).accountId, request.body))),
    );

    app.get(
      '/v1/users',
      {
        schema: { tags: ['access'], response: { 200: z.object({ items: z.array(User) }) } },
        config: { roles: ['admin'] },
      },
      async (request) => ({ items: (await users.list(principalOf(request).accountId)).map(publicUser) }),
    );

    app.patch(
      '/v1/users/:id',
      {
        schema: {
          tags: ['access'],
          summary: 'Change role, password, or disable/enable a user (ends their sessions)',
          params: IdParams,
          body: UpdateUserBody,
          response: { 200: User },
        },
        config: { roles: ['admin'] },
      },
      async (request) => {
        const p = principalOf(request);
        if (p.userId === request.params.id && (request.body.disabled || (request.body.role && request.body.role !== 'admin'))) {
          throw ERRORS.validation('you cannot disable or demote yourself');
        }
        const user = await users.update(p.accountId, request.params.id, request.body);
        if (!user) throw ERRORS.notFound('user', request.params.id);
        return publicUser(user);
      },
    );

    app.post(
      '/v1/calls/:id/listens',
      {
        schema: { tags: ['recordings'], summary: "Log that the caller listened to this call's recording", params: IdParams, response: { 201: z.null() } },
        config: { roles: ANY_ROLE },
      },
      async (request, reply) => {
        const p = principalOf(request);
        const ok = await repo.insertListen(db, { accountId: p.accountId, callId: request.params.id, userId: p.userId, apiKeyId: p.keyId, listener: p.name });
        if (!ok) throw ERRORS.notFound('call', request.params.id);
        return reply.status(201).send(null);
      },
    );

    app.get(
      '/v1/calls/:id/listens',
      {
        schema: {
          tags: ['recordings'],
          summary: 'Who listened to this recording, newest first',
          params: IdParams,
          response: { 200: z.object({ items: z.array(Listen) }) },
        },
        config: { roles: ['admin', 'manager'] },
      },
      async (request) => ({ items: await repo.listListens(db, principalOf(request).accountId, request.params.id) }),
    );
  };
}
