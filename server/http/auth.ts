import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/auth.schemas.js';
import { ERRORS } from '../errors.js';
import type { Role } from '../shared/schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Roles allowed on this route. A /v1 route without `roles` or `public` is admin-only (fail closed). */
    roles?: readonly Role[];
    /** No credentials needed (the website snippet, health, docs). */
    public?: boolean;
  }
}

/** Anything that can turn a request into a principal: API keys, and later web sessions. */
export type CredentialResolver = (request: FastifyRequest) => Promise<Principal | undefined>;

export const ANY_ROLE: readonly Role[] = ['admin', 'manager', 'marketer', 'viewer'];

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  return m?.[1];
}

export function installAuth(app: FastifyInstance, resolvers: CredentialResolver[]): void {
  // onRequest, before body validation: a caller without rights learns nothing about our schemas.
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    const guarded = request.url.startsWith('/v1/') || config.roles !== undefined;
    if (config.public || !guarded) return;
    let principal: Principal | undefined;
    for (const resolve of resolvers) {
      principal = await resolve(request);
      if (principal) break;
    }
    if (!principal) throw ERRORS.unauthenticated();
    const allowed = config.roles ?? ['admin'];
    if (!allowed.includes(principal.role)) throw ERRORS.forbidden(allowed);
    request.principal = principal;
  });
}

/** The caller's principal inside a guarded route (the preHandler has already checked it). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw ERRORS.unauthenticated();
  return request.principal;
}
