import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../http/auth.js';
import { type CallbackDeps, placeCallback } from './callbacks.js';

const OriginateBody = z
  .strictObject({
    extension: z
      .string()
      .trim()
      .regex(/^[0-9]{2,8}$/, '2 to 8 digits, e.g. 101')
      .meta({ description: 'the agent’s extension: its phones ring first' }),
    to: z.string().trim().min(1).max(32).optional().meta({ description: 'the customer’s number (E.164 or national); default the caller of callbackOf' }),
    callerIdNumber: z.string().trim().max(32).optional().meta({
      description: 'one of the account’s numbers, shown to the customer; default the number a returned call came to, else the extension’s or trunk’s caller ID',
    }),
    callbackOf: z.uuid().optional().meta({ description: 'the missed call this returns (linked in the call log)' }),
  })
  .refine((b) => b.to !== undefined || b.callbackOf !== undefined, { message: 'give to, or callbackOf', path: ['to'] });

/** Click to call: POST /v1/calls/originate rings the agent, then the customer (admins and managers). */
export function callbackRoutes(deps: CallbackDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/calls/originate',
      {
        schema: {
          tags: ['pbx'],
          summary: 'Call a customer back: ring the agent’s extension, then the customer through the outbound trunk',
          body: OriginateBody,
          response: { 202: z.object({ callId: z.uuid().meta({ description: 'the call’s id in the call log once it ends' }) }) },
        },
        config: { roles: ['admin', 'manager'] },
      },
      async (request, reply) => reply.status(202).send(await placeCallback(deps, principalOf(request).accountId, request.body)),
    );
  };
}
