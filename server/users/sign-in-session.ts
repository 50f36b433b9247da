import crypto from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ErrorCode } from '../errors.js';
import type { CredentialResolver } from '../http/auth.js';
import { readCookie } from '../http/cookies.js';
import type { UserService } from './users.service.js';

export const SESSION_COOKIE = 'ct_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** HttpOnly (scripts never see it), SameSite=Lax (not sent on cross-site POSTs), Secure over https. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`);
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure}`);
}

const safeEqual = (a: string, b: string) => a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Turns the session cookie into a Principal, so the browser UI calls the same /v1 API as API clients.
 * Mutating requests must also carry X-CSRF-Token (derived from the session): a cross-site form or
 * image cannot set that header, so a forged request fails even where SameSite is not honoured.
 *
 * @example buildHttpApp({ ..., extraCredentials: [createSignInSessionResolver({ users })] })
 */
export function createSignInSessionResolver({ users }: { users: UserService }): CredentialResolver {
  return async (request) => {
    const token = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (!token) return undefined;
    const user = await users.resolveSession(token);
    if (!user) return undefined;
    if (!SAFE_METHODS.has(request.method)) {
      const sent = request.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !safeEqual(sent, users.csrfFor(token))) {
        throw new AppError(
          ErrorCode.forbidden,
          `cookie-authenticated ${request.method} requests need the ${CSRF_HEADER} header from GET /v1/auth/session`,
          403,
        );
      }
    }
    return { accountId: user.accountId, role: user.role, userId: user.id, name: user.email };
  };
}
