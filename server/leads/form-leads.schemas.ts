import { z } from 'zod';

const field = z.string().trim().max(500).optional();

export const FormLeadBody = z.object({
  siteKey: z.string().min(1).max(100),
  sessionId: z.uuid().optional().meta({ description: 'the DNI session of the page (the snippet sends it); its visit is attached' }),
  fields: z
    .object({ name: field, phone: z.string().trim().max(40).optional(), email: z.email().max(320).optional().or(z.literal('')) })
    .refine((f) => f.name || f.phone || f.email, { message: 'at least one of name, phone or email' }),
  url: z.url().max(2000).meta({ description: 'the page the form was on' }),
});
export type FormLeadBody = z.infer<typeof FormLeadBody>;

export const FormLeadResponse = z.object({
  id: z.uuid(),
  firstLead: z.boolean().meta({ description: 'no earlier call or form from this phone' }),
  linkedCallId: z.uuid().nullable().meta({ description: 'a call from the same phone within a day: counted as one lead' }),
});
