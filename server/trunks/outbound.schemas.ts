import { z } from 'zod';
import { E164 } from '../shared/schemas.js';

const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

const OutboundFields = z.strictObject({
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
  register: z.boolean().default(false).meta({ description: 'REGISTER with the gateway (username and password), refreshed before it expires' }),
  registerSeconds: z.number().int().min(60).max(3600).default(600),
  identity: z
    .array(z.enum(['pai', 'diversion']))
    .max(2)
    .default([])
    .meta({ description: 'P-Asserted-Identity with the caller ID, Diversion with the tracking number: what the carrier needs to let the caller ID through' }),
});

/**
 * The public API's spelling (API.md): `gateway: "host:port"`, `callerIdPolicy`, `fixedCallerId`,
 * read as host/port, callerId and fixedNumber. Either spelling is accepted; the view shows both.
 */
function fromPublicSpelling(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const { gateway, callerIdPolicy, fixedCallerId, ...rest } = input as Record<string, unknown>;
  const out: Record<string, unknown> = { ...rest };
  if (typeof gateway === 'string' && out.host === undefined) {
    const m = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(gateway.trim());
    out.host = m?.[1] ?? gateway;
    if (m?.[2] !== undefined && out.port === undefined) out.port = Number(m[2]);
  } else if (gateway !== undefined) out.gateway = gateway;
  if (callerIdPolicy !== undefined && out.callerId === undefined) out.callerId = callerIdPolicy;
  if (fixedCallerId !== undefined && out.fixedNumber === undefined) out.fixedNumber = fixedCallerId;
  return out;
}
const OutboundInput = z.preprocess(fromPublicSpelling, OutboundFields);

/** The outbound side of a trunk: the carrier's gateway that `tel:+E164` targets go through. */
export const OutboundSide = OutboundInput.refine((o) => (o.username === undefined) === (o.password === undefined), {
  message: 'username and password go together',
  path: ['password'],
})
  .refine((o) => o.callerId !== 'fixed' || o.fixedNumber !== undefined, { message: 'callerId "fixed" needs fixedNumber', path: ['fixedNumber'] })
  .refine((o) => !o.register || o.username !== undefined, { message: 'registering needs username and password', path: ['register'] });
export type OutboundSide = z.infer<typeof OutboundSide>;

/** A changed outbound side: checked as a whole once the stored password is filled in (it may be left out to keep it). */
export const OutboundSideChange = OutboundInput;

/** This node's registration with the carrier, as last seen. */
export const CarrierRegistration = z.object({
  state: z.enum(['registering', 'registered', 'failed']),
  registeredUntil: z.string().nullable(),
  lastError: z.string().nullable(),
  at: z.string(),
});
export type CarrierRegistration = z.infer<typeof CarrierRegistration>;

/** What the API shows of it: the password never leaves the server. */
export const OutboundSideView = z.object({
  host: z.string(),
  /** API.md's spelling of host and port. */
  gateway: z.string(),
  callerIdPolicy: z.enum(['caller', 'tracking', 'fixed']),
  fixedCallerId: z.string().nullable(),
  port: z.number().int(),
  transport: z.enum(['udp', 'tcp']),
  username: z.string().nullable(),
  hasPassword: z.boolean(),
  techPrefix: z.string().nullable(),
  callerId: z.enum(['caller', 'tracking', 'fixed']),
  fixedNumber: z.string().nullable(),
  identity: z.array(z.enum(['pai', 'diversion'])),
  register: z.boolean(),
  registration: CarrierRegistration.nullable().meta({ description: 'this node’s registration with the carrier (null when it does not register)' }),
});
export type OutboundSideView = z.infer<typeof OutboundSideView>;

export function viewOf(o: OutboundSide): OutboundSideView {
  return {
    host: o.host,
    gateway: `${o.host}:${o.port}`,
    callerIdPolicy: o.callerId,
    fixedCallerId: o.fixedNumber ?? null,
    port: o.port,
    transport: o.transport,
    username: o.username ?? null,
    hasPassword: o.password !== undefined,
    techPrefix: o.techPrefix ?? null,
    callerId: o.callerId,
    fixedNumber: o.fixedNumber ?? null,
    identity: o.identity,
    register: o.register ?? false,
    registration: null,
  };
}
