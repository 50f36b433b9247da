import { z } from 'zod';
import { CurrencyCode } from './costs.schemas.js';
import { ReportQuery } from './reports.schemas.js';

export const RoiGroupBy = z.enum(['source', 'medium', 'campaign', 'keyword']);
export const RoiModel = z.enum(['last', 'first', 'linear']);

export const RoiQuery = ReportQuery.extend({
  groupBy: RoiGroupBy.default('campaign').meta({
    description: 'levels, each inside the one before: source → source/medium → …/campaign → …/keyword',
  }),
  model: RoiModel.default('last').meta({ description: 'last non-direct touch (default), first touch, or linear over the touches' }),
  currency: CurrencyCode.optional().meta({ description: 'report currency; default the account currency' }),
});
export type RoiQuery = z.infer<typeof RoiQuery>;

const Count = z.number().meta({ description: 'a count; fractional under the linear model (4 decimals)' });
const Minor = z.number().int().meta({ description: 'money in minor units of the report currency' });

const Figures = {
  visits: z.number().int(),
  calls: Count,
  forms: Count,
  leads: Count.meta({ description: 'unique first-time leads: the first call or form of a phone ever' }),
  qualified: Count,
  won: Count,
  revenue: Minor,
  cost: Minor,
  cpl: Minor.nullable().meta({ description: 'cost / leads, rounded to a minor unit' }),
  cpa: Minor.nullable().meta({ description: 'cost / won' }),
  romi: z.number().nullable().meta({ description: '(revenue − cost) / cost, 4 decimals; null without cost' }),
  ltv: Minor.nullable().meta({ description: 'average lifetime revenue (all won deals up to the period end) of the customers won here' }),
};

export const RoiRow = z.object({
  kind: z.enum(['static', 'online', 'none']).meta({ description: 'static: a static source (its number proves it); none: unattributed' }),
  source: z.string().nullable(),
  medium: z.string().nullable(),
  campaign: z.string().nullable(),
  keyword: z.string().nullable(),
  ...Figures,
});
export type RoiRow = z.infer<typeof RoiRow>;

export const RoiReport = z.object({
  period: z.object({ from: z.string(), to: z.string(), tz: z.string() }),
  groupBy: RoiGroupBy,
  model: RoiModel,
  currency: z.string(),
  items: z.array(RoiRow),
  totals: z.object(Figures),
  missingRates: z
    .array(z.object({ currency: z.string(), day: z.string() }))
    .meta({ description: 'amounts left out because no rate into the report currency was known on or before that day' }),
});
export type RoiReport = z.infer<typeof RoiReport>;
