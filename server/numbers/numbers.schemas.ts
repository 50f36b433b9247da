import { z } from 'zod';
import { E164, Uuid } from '../shared/schemas.js';

export const CreateNumberBody = z.object({
  number: E164,
  trunkId: z.uuid(),
  dialplan: z.string().optional(),
});

export const TrackingNumber = z.object({
  id: z.uuid(),
  number: z.string().meta({ example: '+74951234567' }),
  trunkId: z.uuid(),
  poolId: z.uuid().nullable(),
  sourceId: z.uuid().nullable(),
  dialplan: z.string().nullable(),
  quarantineUntil: z.string().nullable(),
  createdAt: z.string(),
});
export type TrackingNumber = z.infer<typeof TrackingNumber>;

export const NumberParams = z.object({ number: E164 });

/** Everything the call path needs about a dialled number, resolved in one query. */
export interface NumberRoute {
  numberId: string;
  number: string;
  accountId: string;
  trunkId: string;
  poolId: string | null;
  sourceId: string | null;
  siteId: string | null;
  /** The most specific binding: number, then pool or source, then site. */
  dialplan: string | null;
}

export const ListNumbersQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z
      .string()
      .regex(/^\+\d{7,15}$/, 'the nextCursor of the previous page')
      .optional()
      .meta({ description: 'nextCursor from the previous page (numbers are sorted ascending)' }),
    q: z.string().max(40).optional().meta({ description: 'digits in any format ("+7 (495) 123", "8 495 12", "4567"): matches numbers containing them' }),
    poolId: Uuid.optional(),
    sourceId: Uuid.optional(),
    free: z
      .enum(['true', 'false'])
      .transform((flag) => flag === 'true')
      .optional()
      .meta({ description: 'true: only numbers in no pool and no source' }),
  })
  .refine((query) => query.q === undefined || /\d/.test(query.q), { message: 'search needs at least one digit', path: ['q'] })
  .refine((query) => [query.poolId, query.sourceId, query.free ? true : undefined].filter((filter) => filter !== undefined).length <= 1, {
    message: 'filter by one of poolId, sourceId or free',
    path: ['poolId'],
  });
export type ListNumbersQuery = z.infer<typeof ListNumbersQuery>;

export const NumbersPage = z.object({
  items: z.array(TrackingNumber),
  total: z.number().int().meta({ description: 'numbers matching the filters, over all pages' }),
  nextCursor: z.string().nullable(),
});

export const NumberGroup = z.object({
  kind: z.enum(['pool', 'source', 'free']),
  id: z.uuid().nullable(),
  name: z.string(),
  count: z.number().int(),
});
export type NumberGroup = z.infer<typeof NumberGroup>;

export const BulkNumbersBody = z
  .object({
    trunkId: z.uuid(),
    lines: z.array(z.string().max(500)).max(10_000).optional().meta({ description: 'one number per entry' }),
    text: z.string().max(1_000_000).optional().meta({ description: 'a pasted list or CSV, one number per line (first column)' }),
    defaultCountry: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'an ISO 3166 country code such as RU')
      .transform((country) => country.toUpperCase())
      .optional()
      .meta({ description: 'reads national formats such as "8 495 123-45-67"' }),
    dialplan: z.string().optional(),
  })
  .refine((body) => (body.lines === undefined) !== (body.text === undefined), { message: 'send either lines or text', path: ['lines'] });

export const BulkNumbersQuery = z.object({
  trunkId: z.uuid().optional().meta({ description: 'for a text/csv or text/plain body' }),
  defaultCountry: z
    .string()
    .regex(/^[A-Za-z]{2}$/)
    .transform((country) => country.toUpperCase())
    .optional(),
});

export const BulkNumbersReport = z.object({
  added: z.array(z.object({ line: z.number().int(), number: z.string() })),
  rejected: z.array(z.object({ line: z.number().int(), text: z.string(), reason: z.string() })),
});
