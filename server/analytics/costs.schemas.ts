import { z } from 'zod';
import { isCurrency } from './money.js';

export const CurrencyCode = z
  .string()
  .transform((v) => v.toUpperCase())
  .refine(isCurrency, { message: 'not an ISO 4217 currency code (RUB, USD, EUR…)' })
  .meta({ description: 'ISO 4217 code', example: 'RUB' });

const Day = z.iso.date().meta({ description: 'calendar day YYYY-MM-DD' });

export const CostUploadResult = z.object({
  rows: z.number().int().meta({ description: 'rows stored from this file' }),
  replaced: z.number().int().meta({ description: 'rows stored earlier for the same days and campaigns, replaced' }),
});

export const CostsQuery = z.object({ from: Day, to: Day, limit: z.coerce.number().int().min(1).max(10_000).default(1_000) });

export const StoredCost = z.object({
  day: Day,
  source: z.string(),
  medium: z.string(),
  campaign: z.string(),
  keyword: z.string().nullable(),
  currency: z.string(),
  costMinor: z.number().int().meta({ description: 'cost in minor units of `currency` (kopecks, cents)' }),
  clicks: z.number().int().nullable(),
  impressions: z.number().int().nullable(),
  origin: z.string().meta({ description: 'csv, yandex_direct or google_ads' }),
});

/** A rate as decimal text, so 92.123456 is stored exactly as written (numeric(24,10)). */
const RateText = z
  .union([z.string(), z.number()])
  .transform((v) => (typeof v === 'number' ? String(v) : v.trim()))
  .refine((v) => /^\d{1,13}(\.\d{1,10})?$/.test(v) && Number(v) > 0, { message: 'a positive decimal with at most 10 digits after the point' });

export const CurrencyRate = z.object({
  day: Day,
  base: CurrencyCode,
  quote: CurrencyCode,
  rate: RateText.meta({ description: '1 base = rate quote (decimal text or number)' }),
});
export type CurrencyRate = z.infer<typeof CurrencyRate>;

export const CurrencyRateOut = z.object({ day: z.string(), base: z.string(), quote: z.string(), rate: z.string() });

export const PutRatesBody = z.object({
  items: z
    .array(CurrencyRate.refine((r) => r.base !== r.quote, { message: 'base and quote must differ' }))
    .min(1)
    .max(10_000),
});

export const RatesQuery = z.object({ from: Day.optional(), to: Day.optional(), base: CurrencyCode.optional(), quote: CurrencyCode.optional() });
export const RateKey = z.object({ day: Day, base: CurrencyCode, quote: CurrencyCode });
