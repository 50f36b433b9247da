import { z } from 'zod';
import { E164 } from '../shared/schemas.js';

const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** The outbound side of a trunk: the carrier's gateway that `tel:+E164` targets go through. */
export const OutboundSide = z
  .strictObject({
    host: z.string().trim().regex(HOST, 'a host name or IPv4 address of the carrier gateway'),
    port: z.number().int().min(1).max(65535).default(5060),
    transport: z.enum(['udp', 'tcp']).default('udp'),
    username: z.string().trim().min(1).max(64).optional().meta({ description: 'answers the gateway’s 401/407 digest challenge' }),
    password: z.string().min(1).max(128).optional(),
    techPrefix: z
      .string()
      .regex(/^[0-9*#]{1,10}$/, 'digits, * or #, up to 10')
      .optional()
      .meta({ description: 'dialled before the number (then without its "+")' }),
    callerId: z.enum(['caller', 'tracking', 'fixed']).default('caller').meta({
      description: 'what the called phone sees: the original caller, the tracking number they dialled, or the company number in fixedNumber',
    }),
    fixedNumber: E164.optional(),
    identity: z
      .array(z.enum(['pai', 'diversion']))
      .max(2)
      .default([])
      .meta({ description: 'P-Asserted-Identity with the caller ID, Diversion with the tracking number: what the carrier needs to let the caller ID through' }),
  })
  .refine((o) => (o.username === undefined) === (o.password === undefined), { message: 'username and password go together', path: ['password'] })
  .refine((o) => o.callerId !== 'fixed' || o.fixedNumber !== undefined, { message: 'callerId "fixed" needs fixedNumber', path: ['fixedNumber'] });
export type OutboundSide = z.infer<typeof OutboundSide>;

/** What the API shows of it: the password never leaves the server. */
export const OutboundSideView = z.object({
  host: z.string(),
  port: z.number().int(),
  transport: z.enum(['udp', 'tcp']),
  username: z.string().nullable(),
  hasPassword: z.boolean(),
  techPrefix: z.string().nullable(),
  callerId: z.enum(['caller', 'tracking', 'fixed']),
  fixedNumber: z.string().nullable(),
  identity: z.array(z.enum(['pai', 'diversion'])),
});
export type OutboundSideView = z.infer<typeof OutboundSideView>;

export function viewOf(o: OutboundSide): OutboundSideView {
  return {
    host: o.host,
    port: o.port,
    transport: o.transport,
    username: o.username ?? null,
    hasPassword: o.password !== undefined,
    techPrefix: o.techPrefix ?? null,
    callerId: o.callerId,
    fixedNumber: o.fixedNumber ?? null,
    identity: o.identity,
  };
}
