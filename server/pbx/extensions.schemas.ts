import { z } from 'zod';
import { E164 } from '../shared/schemas.js';

/** What an extension may dial outside: toll-fraud limits (a stolen phone password must not call abroad all night). */
const OutboundGrant = {
  international: z.boolean().meta({ description: 'may dial numbers outside the home country (default false: domestic only)' }),
  outboundPerMinute: z.number().int().min(0).max(600).meta({ description: 'outside calls this extension may start per minute (0: none)' }),
  callerId: E164.nullable().meta({ description: 'the number outside phones see (null: the trunk’s fixed number)' }),
};

export const CreateExtensionBody = z.object({
  extension: z
    .string()
    .trim()
    .regex(/^[0-9]{2,8}$/, '2 to 8 digits, e.g. 101'),
  name: z.string().trim().min(1).max(100),
  userId: z.guid().optional(),
  international: OutboundGrant.international.default(false),
  outboundPerMinute: OutboundGrant.outboundPerMinute.default(5),
  callerId: OutboundGrant.callerId.optional(),
});

export const UpdateExtensionBody = z
  .strictObject({
    name: z.string().trim().min(1).max(100).optional(),
    international: OutboundGrant.international.optional(),
    outboundPerMinute: OutboundGrant.outboundPerMinute.optional(),
    callerId: OutboundGrant.callerId.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');

export const Extension = z.object({
  id: z.uuid(),
  extension: z.string(),
  name: z.string(),
  userId: z.string().nullable(),
  sipUsername: z.string(),
  international: z.boolean(),
  outboundPerMinute: z.number().int(),
  callerId: z.string().nullable(),
  createdAt: z.string(),
});
export type Extension = z.infer<typeof Extension>;

export const CreatedExtension = Extension.extend({
  sipPassword: z.string().meta({ description: 'shown once: only its digest hash is stored' }),
});

export const Registration = z.object({
  contact: z.string().meta({ description: 'where the phone is rung (the Contact, with the address it registered from behind NAT)' }),
  expiresAt: z.string(),
  source: z.string().meta({ description: 'transport:address:port the REGISTER came from' }),
  userAgent: z.string().nullable(),
});
export type Registration = z.infer<typeof Registration>;
