import { z } from 'zod';

export const Disposition = z.enum(['answered', 'busy', 'no-answer', 'failed', 'cancelled', 'voicemail']);

export const CallsQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'ISO-8601; calls started at or after' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'ISO-8601; calls started before' }),
  source: z.string().max(200).optional().meta({ description: 'static source id, or a source / utm_source name' }),
  campaign: z.string().max(200).optional(),
  tag: z.string().max(64).optional(),
  status: z.union([Disposition, z.literal('missed')]).optional().meta({ description: 'a disposition, or "missed" (anything not answered)' }),
  number: z.string().max(32).optional().meta({ description: 'tracking number (E.164)' }),
  caller: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page' }),
});
export type CallsQuery = z.infer<typeof CallsQuery>;

export const Attribution = z.object({
  sessionId: z.string().nullable(),
  sourceId: z.string().nullable(),
  source: z.string().nullable(),
  medium: z.string().nullable(),
  campaign: z.string().nullable(),
  keyword: z.string().nullable(),
  landingPage: z.string().nullable(),
  referrer: z.string().nullable(),
  utm: z.record(z.string(), z.string()),
  confidence: z.enum(['exact', 'ambiguous', 'static', 'none']),
  reason: z.string().nullable(),
});

export const CallSummary = z.object({
  id: z.uuid(),
  caller: z.string(),
  trackingNumber: z.string(),
  startedAt: z.string(),
  answeredAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  disposition: Disposition.nullable(),
  talkSeconds: z.number(),
  ringSeconds: z.number(),
  answeredBy: z.string().nullable(),
  source: z.string().nullable(),
  campaign: z.string().nullable(),
  confidence: z.string(),
  firstTime: z.boolean().nullable(),
  tags: z.array(z.string()),
  hasRecording: z.boolean(),
});
export type CallSummary = z.infer<typeof CallSummary>;

export const CallDetail = CallSummary.extend({
  callerName: z.string().nullable(),
  dialplan: z.string().nullable(),
  hangupBy: z.string().nullable(),
  finalSipStatus: z.number().nullable(),
  ivrDigits: z.string().nullable(),
  priorCalls: z.number(),
  attribution: Attribution,
  notes: z.array(z.object({ id: z.uuid(), author: z.string(), text: z.string(), createdAt: z.string() })),
  score: z.number().nullable(),
  value: z.number().nullable(),
  recording: z.object({ url: z.string(), durationSeconds: z.number(), channels: z.number() }).nullable(),
});
export type CallDetail = z.infer<typeof CallDetail>;

export const TagsBody = z.object({ tags: z.array(z.string().trim().min(1).max(64)).min(1).max(20) });
export const NoteBody = z.object({ text: z.string().trim().min(1).max(10_000) });
export const ScoreBody = z.object({ score: z.number().int().min(0).max(100).nullable() });
