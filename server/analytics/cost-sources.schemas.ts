import { z } from 'zod';
import { CurrencyCode } from './costs.schemas.js';

const BaseUrl = z.url().max(500);

export const YandexDirectConfig = z.object({
  token: z.string().min(1).max(500).meta({ description: 'OAuth token (Authorization: Bearer)' }),
  clientLogin: z.string().max(200).optional().meta({ description: 'Client-Login of an agency client' }),
  currency: CurrencyCode.default('RUB').meta({ description: 'currency of the Direct account (costs come in it)' }),
  baseUrl: BaseUrl.default('https://api.direct.yandex.com').meta({ description: 'API base (tests point it at a fake)' }),
});

export const GoogleAdsConfig = z.object({
  customerId: z.string().regex(/^\d{10}$/, '10 digits, no dashes'),
  developerToken: z.string().min(1).max(200),
  token: z.string().min(1).max(2000).meta({ description: 'OAuth access token' }),
  loginCustomerId: z
    .string()
    .regex(/^\d{10}$/)
    .optional(),
  currency: CurrencyCode.default('RUB').meta({ description: 'currency of the Google Ads account (cost_micros are in it)' }),
  baseUrl: BaseUrl.default('https://googleads.googleapis.com'),
});

export const CreateCostSourceBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('yandex_direct'), name: z.string().min(1).max(100).optional(), config: YandexDirectConfig }),
  z.object({ kind: z.literal('google_ads'), name: z.string().min(1).max(100).optional(), config: GoogleAdsConfig }),
]);
export type CreateCostSourceBody = z.infer<typeof CreateCostSourceBody>;

export const CostSource = z.object({
  id: z.uuid(),
  kind: z.enum(['yandex_direct', 'google_ads']),
  name: z.string(),
  config: z.record(z.string(), z.unknown()).meta({ description: 'secrets masked' }),
  enabled: z.boolean(),
  pulledThrough: z.string().nullable().meta({ description: 'last day stored completely' }),
  nextPullAt: z.string(),
  lastPullAt: z.string().nullable(),
  lastError: z.string().nullable(),
});
export type CostSource = z.infer<typeof CostSource>;

export const BackfillBody = z.object({ from: z.iso.date(), to: z.iso.date() });
export const PullResult = z.object({ from: z.string(), to: z.string(), rows: z.number().int(), pulledThrough: z.string().nullable() });
