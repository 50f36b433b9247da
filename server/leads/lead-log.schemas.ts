import { z } from 'zod';

const DateTime = (what: string) =>
  z.iso
    .datetime({ offset: true, error: 'expected an ISO-8601 date-time with Z or an offset, e.g. 2026-11-01T00:00:00Z' })
    .optional()
    .meta({ description: what });

export const LeadLogQuery = z.object({
  kind: z.enum(['all', 'call', 'form']).default('all').meta({ description: 'calls, web-form requests, or both' }),
  from: DateTime('ISO-8601 date-time; leads at or after'),
  to: DateTime('ISO-8601 date-time; leads before'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page' }),
});
export type LeadLogQuery = z.infer<typeof LeadLogQuery>;

export const LeadLogItem = z.object({
  kind: z.enum(['call', 'form']),
  id: z.uuid().meta({ description: 'the call id (GET /v1/calls/{id}) or the form lead id' }),
  at: z.string().meta({ description: 'when the call started or the form was submitted' }),
  phone: z.string().nullable(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  source: z.string().nullable(),
  medium: z.string().nullable(),
  campaign: z.string().nullable(),
  keyword: z.string().nullable(),
  status: z.string().meta({ description: 'the call’s disposition, or "submitted" for a form' }),
  firstTime: z.boolean().nullable().meta({ description: 'a new lead: no earlier call or form from this phone' }),
  page: z.string().nullable().meta({ description: 'the page the form was sent from' }),
  linkedId: z
    .uuid()
    .nullable()
    .meta({ description: 'the same lead’s other half: a form and a call from one phone within a day (the call for a form, the form for a call)' }),
});
export type LeadLogItem = z.infer<typeof LeadLogItem>;
