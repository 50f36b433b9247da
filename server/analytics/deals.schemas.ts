import { z } from 'zod';
import { E164, Uuid } from '../shared/schemas.js';
import { CurrencyCode } from './costs.schemas.js';

export const DealStage = z.enum(['lead', 'qualified', 'won', 'lost']);
export type DealStage = z.infer<typeof DealStage>;

/** Stages only move forward (lead → qualified → won | lost); won and lost may replace each other (a reopened deal). */
export const STAGE_RANK: Record<DealStage, number> = { lead: 0, qualified: 1, won: 2, lost: 2 };

const Money = z
  .union([z.number().nonnegative(), z.string().regex(/^\d{1,15}(\.\d+)?$/)])
  .meta({ description: 'amount in major units (1500.50), exactly as written; at most the currency’s digits after the point' });

export const ConversionBody = z
  .object({
    callId: Uuid.optional(),
    visitorId: z.string().min(1).max(100).optional(),
    gaClientId: z.string().min(1).max(100).optional(),
    phone: E164.optional(),
    stage: DealStage,
    revenue: Money.optional(),
    currency: CurrencyCode.optional().meta({ description: 'default: the account currency' }),
    at: z.iso.datetime({ offset: true }),
    externalId: z.string().min(1).max(200).meta({ description: 'your deal id: a repeat with the same id updates that deal' }),
  })
  .refine((b) => b.callId || b.visitorId || b.gaClientId || b.phone, { message: 'one of callId, visitorId, gaClientId or phone is needed to link the deal' });
export type ConversionBody = z.infer<typeof ConversionBody>;

export const Deal = z.object({
  id: Uuid,
  externalId: z.string(),
  origin: z.enum(['api', 'amocrm', 'bitrix24']),
  stage: DealStage,
  revenueMinor: z.number().int().nullable().meta({ description: 'revenue in minor units of `currency`' }),
  currency: z.string().nullable(),
  at: z.string(),
  wonAt: z.string().nullable(),
  callId: Uuid.nullable(),
  formLeadId: Uuid.nullable(),
  visitorId: z.string().nullable(),
  phone: z.string().nullable(),
  created: z.boolean().meta({ description: 'false when the externalId was known and the deal updated' }),
});
export type Deal = z.infer<typeof Deal>;

export const CrmInbound = z.object({
  amocrm: z.object({ url: z.string(), token: z.string() }).nullable(),
  bitrix24: z.object({ url: z.string(), configured: z.boolean(), qualifiedStages: z.array(z.string()) }).nullable(),
});

export const AmoInboundBody = z.object({
  qualifiedStatusIds: z.array(z.number().int()).max(100).default([]).meta({ description: 'amoCRM status ids that mean "qualified"' }),
  currency: CurrencyCode.optional().meta({ description: 'currency of amoCRM prices; default the account currency' }),
});
export const Bitrix24InboundBody = z.object({
  applicationToken: z.string().min(8).max(200).meta({ description: 'auth[application_token] of the Bitrix24 outgoing webhook' }),
  qualifiedStages: z.array(z.string().max(100)).max(100).default([]).meta({ description: 'STAGE_IDs that mean "qualified"' }),
});
