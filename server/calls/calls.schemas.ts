import { z } from 'zod';
import { Visit } from '../attribution/visit.js';
import { DayOrInstant, E164, toE164 } from '../shared/schemas.js';

export const Disposition = z.enum(['answered', 'busy', 'no-answer', 'failed', 'cancelled', 'voicemail']);
export type Disposition = z.infer<typeof Disposition>;

/**
 * A bound of the calls list: a date-time with Z or an offset, or a calendar day in UTC (as people
 * write it): `from` that day's start, `to` the end of it, so from=2026-11-01&to=2026-11-30 is November.
 */
const callsBound = (edge: 'from' | 'to') =>
  DayOrInstant.transform((v) => {
    if (v.includes('T')) return v;
    const day = new Date(`${v}T00:00:00Z`);
    if (edge === 'to') day.setUTCDate(day.getUTCDate() + 1);
    return day.toISOString();
  });

export const CallsQuery = z.object({
  from: callsBound('from').optional().meta({ description: 'calls started at or after: an ISO-8601 date-time, or a date (its start, UTC)' }),
  to: callsBound('to').optional().meta({ description: 'calls started before: an ISO-8601 date-time, or a date (up to its end, UTC)' }),
  source: z.string().max(200).optional().meta({ description: 'static source id, or a source / utm_source name' }),
  campaign: z.string().max(200).optional(),
  tag: z.string().max(64).optional(),
  status: z
    .union([Disposition, z.literal('missed')])
    .optional()
    .meta({ description: 'a disposition, or "missed" (anything not answered)' }),
  number: E164.optional().meta({ description: 'tracking number (any common formatting; compared in E.164)' }),
  // Caller ids are not always numbers (anonymous, SIP users): normalise only what parses.
  caller: z
    .string()
    .max(64)
    .transform((v) => toE164(v) ?? v.trim())
    .optional()
    .meta({ description: 'caller id' }),
  direction: z.enum(['inbound', 'outbound', 'internal']).optional().meta({ description: 'tracked inbound calls, or calls the PBX placed' }),
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
  /** Every utm_* key the visit carried (utm_source, utm_medium, utm_campaign, utm_term, utm_content, …). */
  utm: z.record(z.string(), z.string()),
  utmSource: z.string().nullable(),
  utmMedium: z.string().nullable(),
  utmCampaign: z.string().nullable(),
  utmTerm: z.string().nullable(),
  utmContent: z.string().nullable(),
  gclid: z.string().nullable(),
  yclid: z.string().nullable(),
  gaClientId: z.string().nullable(),
  ymClientId: z.string().nullable(),
  confidence: z.enum(['exact', 'ambiguous', 'static', 'none']),
  reason: z.string().nullable(),
  likelihood: z.number().nullable().meta({ description: 'how likely the attributed visitor is the caller (0..1)' }),
  visitChain: z.array(Visit).meta({ description: 'the visitor’s visits up to the call, first touch … last touch' }),
});

export const CallSummary = z.object({
  id: z.uuid(),
  direction: z.enum(['inbound', 'outbound', 'internal']).meta({
    description: 'inbound: a tracked call; outbound: an extension or a callback dialled out through the trunk; internal: extension to extension',
  }),
  /** Outbound and internal calls: who was dialled (extension number or +E164). */
  callee: z.string().nullable(),
  /** A callback: the missed call it returns. */
  callbackOf: z.uuid().nullable(),
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
  queue: z
    .object({
      name: z.string(),
      waitSeconds: z.number().int(),
      outcome: z.enum(['answered', 'abandoned', 'timeout', 'no-agents']),
      withinServiceLevel: z.boolean().nullable(),
    })
    .nullable()
    .meta({ description: 'the call queue the caller waited in, how long, and how that ended' }),
  dialplan: z.string().nullable(),
  hangupBy: z.string().nullable(),
  finalSipStatus: z.number().nullable(),
  ivrDigits: z.string().nullable(),
  priorCalls: z.number().meta({ description: 'The caller’s earlier calls when this one came in, counted up to 100 (100 means 100 or more)' }),
  attribution: Attribution,
  notes: z.array(z.object({ id: z.uuid(), author: z.string(), text: z.string(), createdAt: z.string() })),
  score: z.number().nullable(),
  value: z.number().nullable(),
  recording: z.object({ url: z.string(), durationSeconds: z.number(), channels: z.number() }).nullable(),
  /** none: not recorded; pending: being converted; failed: conversion failed; ready: `recording` is set. */
  recordingStatus: z.enum(['none', 'pending', 'ready', 'failed']),
  /** Why the last conversion failed (failed only); POST /v1/calls/{id}/recording/retry converts again. */
  recordingError: z.string().nullable(),
  recordingRetryAt: z.string().nullable(),
});
export type CallDetail = z.infer<typeof CallDetail>;

export const TagsBody = z.object({ tags: z.array(z.string().trim().min(1).max(64)).min(1).max(20) });
export const NoteBody = z.object({ text: z.string().trim().min(1).max(10_000) });
export const ScoreBody = z.object({ score: z.number().int().min(0).max(100).nullable().meta({ description: '0..100, null clears it' }) });
/** Money the call brought (a sale, a booking); numeric(14,2) in the database, so cents at most. */
export const ValueBody = z.object({
  value: z.number().min(0).max(999_999_999_999.99).nullable().meta({ description: 'in the account currency, null clears it' }),
});
