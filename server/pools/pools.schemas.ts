import { z } from 'zod';
import { E164 } from '../shared/schemas.js';

export const ExhaustionPolicy = z.enum(['default_number', 'share']).meta({
  description: 'When every number is leased: show the site default number, or share the least recently used number (attribution then says ambiguous)',
});

export const CreatePoolBody = z.object({
  siteId: z.uuid(),
  name: z.string().trim().min(1).max(200),
  numbers: z.array(E164).max(10_000).default([]),
  holdSeconds: z.number().int().min(0).max(86_400).meta({ description: 'How long a number stays with a visitor after the last keep-alive' }),
  maxLeaseSeconds: z
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(4 * 3600),
  exhaustionPolicy: ExhaustionPolicy.default('default_number'),
  dialplan: z.string().optional(),
});

export const Pool = z.object({
  id: z.uuid(),
  siteId: z.uuid(),
  name: z.string(),
  numbers: z.array(z.string()),
  holdSeconds: z.number(),
  maxLeaseSeconds: z.number(),
  exhaustionPolicy: ExhaustionPolicy,
  dialplan: z.string().nullable(),
  createdAt: z.string(),
});
export type Pool = z.infer<typeof Pool>;
