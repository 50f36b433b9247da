import { z } from 'zod';
import { DayOrInstant } from '../shared/schemas.js';

const validTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

/** A report bound: a date-time with Z/offset, or a calendar day in the report's time zone. */
const Bound = DayOrInstant;

export const ReportQuery = z.object({
  from: Bound.optional().meta({ description: 'start, inclusive; a date means midnight in `tz`; default 30 days before now' }),
  to: Bound.optional().meta({ description: 'end; a date-time is exclusive, a date includes that whole day in `tz`; default now' }),
  tz: z
    .string()
    .max(64)
    .default('UTC')
    .refine(validTimeZone, { message: 'not an IANA time zone (e.g. Europe/Moscow, UTC)' })
    .meta({ description: 'IANA time zone for dates and daily buckets; default UTC' }),
});
export type ReportQuery = z.infer<typeof ReportQuery>;

const Period = z.object({ from: z.string(), to: z.string(), tz: z.string() });

const Counts = {
  calls: z.number().int(),
  answered: z.number().int(),
  /** Not answered by a person: busy, no answer, voicemail, failed, cancelled. */
  missed: z.number().int(),
  firstTimeCallers: z.number().int(),
  talkSeconds: z.number().int(),
};

export const SourceReportRow = z.object({
  /** `static`: a source owning the dialled number; `visit`: what the website session said; `none`: unattributed. */
  kind: z.enum(['static', 'visit', 'none']),
  sourceId: z.uuid().nullable(),
  source: z.string().nullable(),
  medium: z.string().nullable(),
  campaign: z.string().nullable(),
  ...Counts,
  value: z.number().meta({ description: "sum of the calls' value" }),
  cost: z.number().nullable().meta({ description: 'spend in the period (static sources only)' }),
  currency: z.string().nullable(),
  costBasis: z.enum(['prorated', 'whole']).nullable().meta({
    description:
      "prorated: cost × share of the source's flight (starts_on..ends_on) inside the period; whole: the source has no complete flight dates, so its whole cost counts",
  }),
  costPerCall: z.number().nullable(),
  costPerAnsweredCall: z.number().nullable(),
});
export type SourceReportRow = z.infer<typeof SourceReportRow>;

export const SourceReport = z.object({
  period: Period,
  items: z.array(SourceReportRow),
  totals: z.object({ ...Counts, value: z.number() }),
});
export type SourceReport = z.infer<typeof SourceReport>;

export const DailyReport = z.object({
  period: Period,
  items: z.array(z.object({ day: z.iso.date(), ...Counts })),
});
export type DailyReport = z.infer<typeof DailyReport>;

export const FunnelReport = z.object({
  period: Period,
  /** Website visits (non-bot sessions); null when the sessions table does not exist on this server. */
  visits: z.number().int().nullable(),
  visitors: z.number().int().nullable(),
  calls: z.number().int(),
  /** Calls attributed to a website session (the visits → calls step). */
  visitCalls: z.number().int(),
  answered: z.number().int(),
  visitAnswered: z.number().int(),
  /** visitCalls / visits; null without visits. */
  visitToCallRate: z.number().nullable(),
  /** answered / calls; null without calls. */
  answerRate: z.number().nullable(),
});
export type FunnelReport = z.infer<typeof FunnelReport>;
