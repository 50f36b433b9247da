import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { publicUser } from './users.repository.js';
import { Email, Password, SessionView } from './users.schemas.js';
import type { SetupService } from './setup.service.js';
import type { UserService } from './users.service.js';
import { setSessionCookie } from './sign-in-session.js';

const SetupBody = z.object({
  email: Email,
  name: z.string().trim().min(1).max(100),
  password: Password,
  token: z.string().max(200).optional().meta({ description: 'the setup token printed in the server log; needed unless the request comes from loopback' }),
});

/** First run: while no user exists, the UI creates the first admin here instead of with curl and ADMIN_API_KEY. */
export function setupRoutes({ setup, users }: { setup: SetupService; users: UserService }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/setup',
      {
        schema: { tags: ['access'], summary: 'Whether first-run setup is still needed (no user exists)', response: { 200: z.object({ needed: z.boolean() }) } },
        config: { public: true },
      },
      async () => ({ needed: await setup.needed() }),
    );

    app.post(
      '/v1/setup',
      {
        schema: {
          tags: ['access'],
          summary: 'Create the first admin (only while no user exists; from loopback or with the setup token) and sign in',
          body: SetupBody,
          response: { 201: SessionView },
        },
        config: { public: true },
      },
      async (request, reply) => {
        // The socket peer cannot be forged; forwarded addresses can, but a request that carries any
        // was relayed, and a local proxy (trusted in TRUSTED_PROXIES or not) relaying a remote client
        // makes it remote. Every address must be loopback, or the token must match.
        const forwarded = String(request.headers['x-forwarded-for'] ?? '')
          .split(',')
          .map((part) => part.trim())
          .filter(Boolean);
        const addresses = [request.socket.remoteAddress, request.ip, ...forwarded];
        const session = await setup.createFirstAdmin(request.body, addresses, request.headers['user-agent']);
        setSessionCookie(request, reply, session.token, session.maxAgeSeconds);
        const user = publicUser(session.user);
        request.log.info({ type: 'first_admin_created', email: user.email }, 'first-run setup created the first admin');
        return reply.status(201).send({ user, principal: { name: user.email, role: user.role }, csrfToken: users.csrfFor(session.token) });
      },
    );
  };
}
