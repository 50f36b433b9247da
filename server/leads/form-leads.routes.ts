import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ERRORS } from '../errors.js';
import { FormLeadBody, FormLeadResponse } from './form-leads.schemas.js';
import type { FormLeadService } from './form-leads.service.js';

const VISITOR_COOKIE = 'ct_vid';

function visitorCookie(request: FastifyRequest): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === VISITOR_COOKIE) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** Credentialed CORS for the request's Origin (the service has checked it against the site's domains). */
function allowOrigin(request: FastifyRequest, reply: FastifyReply): void {
  const origin = request.headers.origin;
  if (origin) reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true').header('vary', 'Origin');
}

/**
 * Web-form leads, public like the snippet's sessions API: a browser's Origin must be one of the
 * site's domains; a site's backend (no Origin) may post too. Rate limited per client IP.
 */
export function formLeadRoutes({
  forms,
  rateLimit: limit,
}: {
  forms: FormLeadService;
  rateLimit: { max: number; timeWindowMs: number };
}): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(rateLimit, { global: false, skipOnError: true, errorResponseBuilder: () => ERRORS.rateLimited() });
    // The snippet posts text/plain (a simple CORS request, no preflight) or uses sendBeacon while the page unloads.
    app.removeContentTypeParser('text/plain');
    app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, JSON.parse(String(body)));
      } catch {
        done(ERRORS.validation('body is not JSON'), undefined);
      }
    });

    app.options('/v1/leads/forms', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      allowOrigin(request, reply);
      reply.header('access-control-allow-methods', 'POST').header('access-control-allow-headers', 'content-type').header('access-control-max-age', '600');
      return reply.status(204).send();
    });

    app.post(
      '/v1/leads/forms',
      {
        schema: {
          tags: ['leads'],
          summary: 'A web-form lead (public; a browser’s Origin must be one of the site’s domains) → form.submitted through the outbox',
          security: [],
          body: FormLeadBody,
          response: { 201: FormLeadResponse },
        },
        config: { public: true, rateLimit: { max: limit.max, timeWindow: limit.timeWindowMs } },
      },
      async (request, reply) => {
        const result = await forms.submit(request.body, { origin: request.headers.origin, visitorCookie: visitorCookie(request) });
        allowOrigin(request, reply);
        return reply.status(201).header('cache-control', 'no-store').send(result);
      },
    );
  };
}
