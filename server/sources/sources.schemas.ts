import { z } from 'zod';
import { E164 } from '../shared/schemas.js';

const IsoDate = z.iso.date().meta({ description: 'YYYY-MM-DD' });

export const CreateSourceBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: z.enum(['offline', 'online']),
    channel: z.string().trim().min(1).max(100).meta({ description: 'flyer, billboard, radio, print, google_ads, yandex_direct, …' }),
    medium: z.string().trim().max(100).optional(),
    campaign: z.string().trim().max(200).optional(),
    cost: z.number().min(0).max(1e12).optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, 'ISO 4217 code such as RUB')
      .default('RUB'),
    startsOn: IsoDate.optional(),
    endsOn: IsoDate.optional(),
    numbers: z.array(E164).max(1000).default([]),
    dialplan: z.string().optional(),
  })
  .refine((s) => !s.startsOn || !s.endsOn || s.endsOn >= s.startsOn, { message: 'endsOn is before startsOn', path: ['endsOn'] });

export const Source = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(['offline', 'online']),
  channel: z.string(),
  medium: z.string().nullable(),
  campaign: z.string().nullable(),
  cost: z.number().nullable(),
  currency: z.string(),
  startsOn: z.string().nullable(),
  endsOn: z.string().nullable(),
  numbers: z.array(z.string()),
  dialplan: z.string().nullable(),
  createdAt: z.string(),
});
export type Source = z.infer<typeof Source>;
