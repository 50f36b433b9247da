import { z } from 'zod';

export const CreateExtensionBody = z.object({
  extension: z
    .string()
    .trim()
    .regex(/^[0-9]{2,8}$/, '2 to 8 digits, e.g. 101'),
  name: z.string().trim().min(1).max(100),
  userId: z.guid().optional(),
});

export const Extension = z.object({
  id: z.uuid(),
  extension: z.string(),
  name: z.string(),
  userId: z.string().nullable(),
  sipUsername: z.string(),
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
