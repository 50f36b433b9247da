import net from 'node:net';
import { z } from 'zod';
import { OutboundSide, OutboundSideChange, OutboundSideView } from './outbound.schemas.js';

const MIN_IPV4_PREFIX = 8;
const MIN_IPV6_PREFIX = 16;

/** An IPv4/IPv6 address or CIDR block; a bare address means that one host. */
export const Cidr = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const [addr, bits, extra] = value.split('/');
    const family = net.isIP(addr ?? '');
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!family || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d+$/.test(bits))) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not an IP address or CIDR block (e.g. 203.0.113.10/32)` });
      return z.NEVER;
    }
    // A catch-all range would take every caller's INVITEs for this trunk's account (and any other
    // account's numbers it shares an address with): a carrier's network is never that wide.
    const narrowest = family === 4 ? MIN_IPV4_PREFIX : MIN_IPV6_PREFIX;
    if (prefix < narrowest) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is too wide for a carrier: at least /${narrowest} (catch-all ranges such as 0.0.0.0/0 are refused)`,
      });
      return z.NEVER;
    }
    return `${addr}/${prefix}`;
  });

export const CreateTrunkBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    addresses: z.array(Cidr).max(100).default([]),
    username: z
      .string()
      .trim()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, ".", "_" and "-"')
      .optional(),
    password: z.string().min(8).max(128).optional(),
    maxCallsPerSecond: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .nullable()
      .optional()
      .meta({ description: 'new INVITEs per second admitted from this trunk; beyond it 503 with Retry-After' }),
    maxConcurrentCalls: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .nullable()
      .optional()
      .meta({ description: 'calls in progress at once from this trunk; beyond it 503' }),
    outbound: OutboundSide.optional().meta({ description: 'the carrier gateway tel: targets (outside numbers) are dialled through' }),
  })
  .refine((t) => (t.username === undefined) === (t.password === undefined), { message: 'username and password go together', path: ['password'] })
  .refine((t) => t.addresses.length > 0 || t.username !== undefined || t.outbound !== undefined, {
    message: 'a trunk needs carrier addresses or digest credentials (inbound), or an outbound side',
    path: ['addresses'],
  });
export type CreateTrunkBody = z.infer<typeof CreateTrunkBody>;

/** What PATCH /v1/trunks/{id} may change; inbound digest credentials are replaced by deleting and adding the trunk. */
export const UpdateTrunkBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    addresses: z.array(Cidr).max(100).optional(),
    maxCallsPerSecond: z.number().int().min(1).max(10_000).nullable().optional(),
    maxConcurrentCalls: z.number().int().min(1).max(100_000).nullable().optional(),
    outbound: OutboundSideChange.nullable().optional().meta({
      description: 'replaces the outbound side (null removes it); leave out password to keep the stored one for the same username',
    }),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');
export type UpdateTrunkBody = z.infer<typeof UpdateTrunkBody>;

export const Trunk = z.object({
  id: z.uuid(),
  name: z.string(),
  addresses: z.array(z.string()),
  username: z.string().nullable(),
  hasPassword: z.boolean().meta({ description: 'The password itself is never returned' }),
  maxCallsPerSecond: z.number().int().nullable(),
  maxConcurrentCalls: z.number().int().nullable(),
  lastInviteAt: z.string().nullable().meta({ description: 'when the SIP edge last saw an INVITE from this trunk (updated at most every 5 s)' }),
  outbound: OutboundSideView.nullable(),
  createdAt: z.string(),
});
export type Trunk = z.infer<typeof Trunk>;
