import { z } from 'zod';
import type { Visit } from '../attribution/visit.js';
import type { CallRef, CallStart } from '../calls/call-events.js';
import { type CallView, findCallView, resolveChannel } from '../calls/call-view.js';
import type { Queryable } from '../db/pool.js';
import { signedRecordingUrl } from '../recordings/recording-links.js';

/**
 * The lead every sink is built from, and the webhook body itself (version 1). Field names follow
 * what CallRail / CallTrackingMetrics users already map (answered, duration, first_call, utm_*,
 * landing_page_url, …), plus our attribution confidence and the pool-overflow flag.
 * Documented for receivers as server/leads/webhook-payload.schema.json (generated from this type;
 * a test keeps the two equal).
 */
export const CallEventType = z.enum(['call.started', 'call.completed', 'call.recording_ready', 'call.modified']);
export type CallEventType = z.infer<typeof CallEventType>;
/** Every outbox event: the call events, a web-form submission (FormLeadPayload) and a won deal (DealWonPayload). */
export const EventType = z.enum([...CallEventType.options, 'form.submitted', 'deal.won']);
export type EventType = z.infer<typeof EventType>;

const str = z.string().nullable();

export const LeadCall = z.object({
  id: z.guid(),
  sip_call_id: str,
  direction: z.literal('inbound'),
  status: z.enum(['ringing', 'answered', 'busy', 'no-answer', 'failed', 'cancelled', 'voicemail']),
  answered: z.boolean(),
  voicemail: z.boolean(),
  start_time: z.iso.datetime({ offset: true }),
  answer_time: z.iso.datetime({ offset: true }).nullable(),
  end_time: z.iso.datetime({ offset: true }).nullable(),
  duration: z.number().int().min(0).describe('seconds from arrival to hang-up'),
  talk_time: z.number().int().min(0),
  ring_time: z.number().int().min(0),
  caller_number: str.describe('E.164 when the caller id parsed'),
  caller_name: str,
  tracking_number: z.string(),
  business_number: str.describe('the target that answered (SIP URI or number)'),
  agent: str,
  hangup_by: z.enum(['caller', 'callee', 'system']).nullable(),
  final_sip_status: z.number().int().nullable(),
  ivr_digits: str,
  dialplan: str,
  first_call: z.boolean().nullable(),
  prior_calls: z.number().int().min(0),
  tags: z.array(z.string()),
  notes: z.array(z.object({ author: z.string(), text: z.string(), created_at: z.iso.datetime({ offset: true }) })),
  note: str.describe('the latest note'),
  score: z.number().int().nullable(),
  value: z.number().nullable(),
  recording_status: z.enum(['none', 'pending', 'ready', 'failed']),
  recording_url: str.describe('link to the stereo recording (needs an API key unless signed)'),
  recording_duration: z.number().nullable(),
});

export const LeadAttribution = z.object({
  confidence: z.enum(['exact', 'ambiguous', 'static', 'none']),
  overflow: z.boolean().describe('the number was shared because the pool was exhausted'),
  reason: str,
  session_id: z.guid().nullable(),
  source_id: z.guid().nullable(),
  source: str,
  medium: str,
  campaign: str,
  keyword: str,
  landing_page_url: str,
  referring_url: str,
  utm_source: str,
  utm_medium: str,
  utm_campaign: str,
  utm_term: str,
  utm_content: str,
  gclid: str,
  gbraid: str,
  wbraid: str,
  yclid: str,
  fbclid: str,
  msclkid: str,
  ga_client_id: str.describe('GA4 client id (the last two fields of the _ga cookie)'),
  ym_client_id: str.describe('Yandex Metrica ClientId'),
  visitor_id: str.describe('our first-party visitor id (ct_vid cookie)'),
  source_name: str.describe('the static source that owns the number (flyer, billboard, …)'),
  source_channel: str.describe('that static source’s channel'),
  source_cost: z.number().nullable(),
  source_currency: str,
});

export const LeadPayload = z
  .object({
    version: z.literal(1),
    id: z.guid().describe('event id; the webhook-id header is per (event, sink)'),
    type: CallEventType,
    occurred_at: z.iso.datetime({ offset: true }),
    account_id: z.guid(),
    change: z.object({ field: z.enum(['tags', 'notes', 'score', 'value']) }).nullable(),
    call: LeadCall,
    attribution: LeadAttribution,
  })
  .meta({ title: 'Call lead webhook payload, version 1' });
export type LeadPayload = z.infer<typeof LeadPayload>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export interface PayloadContext {
  /** Base URL used to build recording links, e.g. https://calls.example.com. */
  publicBaseUrl: string;
  /** Signs recording links so a CRM can fetch the audio without an API key; plain (key-protected) links when absent. */
  recordingLinks?: { secret: string; ttlDays: number } | undefined;
}

function recordingUrl(ctx: PayloadContext, accountId: string, callId: string): string {
  if (!ctx.recordingLinks) return `${ctx.publicBaseUrl}/v1/calls/${callId}/recording`;
  const expires = Math.floor(Date.now() / 1000) + ctx.recordingLinks.ttlDays * 86_400;
  return signedRecordingUrl(ctx.publicBaseUrl, ctx.recordingLinks.secret, accountId, callId, expires);
}

export interface LeadEventInfo {
  eventId: string;
  type: CallEventType;
  occurredAt: Date;
  change?: LeadPayload['change'];
}

/** Visit fields as the webhook spells them (snake_case, like the rest of the payload). */
function visitFields(
  visit: Visit | null,
): Pick<
  LeadPayload['attribution'],
  | 'landing_page_url'
  | 'referring_url'
  | 'utm_source'
  | 'utm_medium'
  | 'utm_campaign'
  | 'utm_term'
  | 'utm_content'
  | 'gclid'
  | 'gbraid'
  | 'wbraid'
  | 'yclid'
  | 'fbclid'
  | 'msclkid'
  | 'ga_client_id'
  | 'ym_client_id'
  | 'visitor_id'
> {
  return {
    landing_page_url: visit?.landingPage ?? null,
    referring_url: visit?.referrer ?? null,
    utm_source: visit?.utmSource ?? null,
    utm_medium: visit?.utmMedium ?? null,
    utm_campaign: visit?.utmCampaign ?? null,
    utm_term: visit?.utmTerm ?? null,
    utm_content: visit?.utmContent ?? null,
    gclid: visit?.gclid ?? null,
    gbraid: visit?.gbraid ?? null,
    wbraid: visit?.wbraid ?? null,
    yclid: visit?.yclid ?? null,
    fbclid: visit?.fbclid ?? null,
    msclkid: visit?.msclkid ?? null,
    ga_client_id: visit?.gaClientId ?? null,
    ym_client_id: visit?.ymClientId ?? null,
    visitor_id: visit?.visitorId ?? null,
  };
}

/** The lead of a stored call (call.completed, call.recording_ready, call.modified), from the call's CallView. */
export function buildLeadPayload(call: CallView, ctx: PayloadContext, event: LeadEventInfo): LeadPayload {
  const notes = call.notes.map((note) => ({ author: note.author, text: note.text, created_at: note.createdAt.toISOString() }));
  const end = call.endedAt;
  return {
    version: 1,
    id: event.eventId,
    type: event.type,
    occurred_at: event.occurredAt.toISOString(),
    account_id: call.accountId,
    change: event.change ?? null,
    call: {
      id: call.id,
      sip_call_id: call.sipCallId,
      // Only inbound calls become leads (lead-events.ts leaves the others out).
      direction: 'inbound',
      status: call.disposition ?? 'ringing',
      answered: call.disposition === 'answered' || call.answeredAt !== null,
      voicemail: call.disposition === 'voicemail',
      start_time: call.startedAt.toISOString(),
      answer_time: iso(call.answeredAt),
      end_time: iso(end),
      duration: end ? Math.max(0, Math.round((end.getTime() - call.startedAt.getTime()) / 1000)) : 0,
      talk_time: call.talkSeconds,
      ring_time: call.ringSeconds,
      caller_number: call.caller || null,
      caller_name: call.callerName,
      tracking_number: call.trackingNumber,
      business_number: call.answeredBy,
      agent: call.answeredBy,
      hangup_by: call.hangupBy,
      final_sip_status: call.finalSipStatus,
      ivr_digits: call.ivrDigits,
      dialplan: call.dialplan,
      first_call: call.firstTime,
      prior_calls: call.priorCalls,
      tags: call.tags,
      notes,
      note: notes.at(-1)?.text ?? null,
      score: call.score,
      value: call.value,
      recording_status: call.recording.status,
      recording_url: call.recording.status === 'ready' ? recordingUrl(ctx, call.accountId, call.id) : null,
      recording_duration: call.recording.durationSeconds,
    },
    attribution: {
      confidence: call.confidence,
      overflow: call.attribution.overflow,
      reason: call.attribution.reason,
      session_id: call.sessionId,
      source_id: call.staticSource?.id ?? null,
      ...call.channel,
      ...visitFields(call.visit),
      source_name: call.staticSource?.name ?? null,
      source_channel: call.staticSource?.channel ?? null,
      source_cost: call.staticSource?.cost ?? null,
      source_currency: call.staticSource?.currency ?? null,
    },
  };
}

/** Loads the call and builds its lead; undefined when the call row does not exist (yet). */
export async function loadLeadPayload(db: Queryable, ctx: PayloadContext, callRef: CallRef, event: LeadEventInfo): Promise<LeadPayload | undefined> {
  const call = await findCallView(db, callRef.accountId, callRef.callId);
  return call ? buildLeadPayload(call, ctx, event) : undefined;
}

/** call.started is written while the call rings, before its row exists: what the call path knows then. */
export function startedPayload(call: CallStart, event: { eventId: string; occurredAt: Date }): LeadPayload {
  const snapshot = call.attribution;
  const staticSource = snapshot?.staticSource ?? null;
  const visit = snapshot?.visit ?? null;
  return {
    version: 1,
    id: event.eventId,
    type: 'call.started',
    occurred_at: event.occurredAt.toISOString(),
    account_id: call.accountId,
    change: null,
    call: {
      id: call.callId,
      sip_call_id: call.sipCallId,
      direction: 'inbound',
      status: 'ringing',
      answered: false,
      voicemail: false,
      start_time: call.startedAt.toISOString(),
      answer_time: null,
      end_time: null,
      duration: 0,
      talk_time: 0,
      ring_time: 0,
      caller_number: call.caller || null,
      caller_name: call.callerName,
      tracking_number: call.trackingNumber,
      business_number: null,
      agent: null,
      hangup_by: null,
      final_sip_status: null,
      ivr_digits: null,
      dialplan: call.dialplan,
      first_call: snapshot?.firstTime ?? null,
      prior_calls: snapshot?.priorCalls ?? 0,
      tags: [],
      notes: [],
      note: null,
      score: null,
      value: null,
      recording_status: 'none',
      recording_url: null,
      recording_duration: null,
    },
    attribution: {
      confidence: snapshot?.confidence ?? 'none',
      overflow: snapshot?.overflow ?? false,
      reason: snapshot?.reason ?? null,
      session_id: snapshot?.sessionId ?? null,
      source_id: staticSource?.id ?? null,
      ...resolveChannel(staticSource, visit),
      ...visitFields(visit),
      source_name: staticSource?.name ?? null,
      source_channel: staticSource?.channel ?? null,
      source_cost: null,
      source_currency: null,
    },
  };
}

/** A web-form request ("заявка") from the site: its fields and the visit of the visitor's session. */
export const FormLeadPayload = z
  .object({
    version: z.literal(1),
    id: z.guid().describe('event id; the webhook-id header is per (event, sink)'),
    type: z.literal('form.submitted'),
    occurred_at: z.iso.datetime({ offset: true }),
    account_id: z.guid(),
    form: z.object({
      id: z.guid(),
      site_id: z.guid(),
      url: z.string(),
      name: str,
      phone: str.describe('E.164 when the number parsed'),
      email: str,
      first_lead: z.boolean().describe('no earlier call or form from this phone'),
      linked_call_id: z.guid().nullable().describe('a call from the same phone within a day: the same lead'),
      submitted_at: z.iso.datetime({ offset: true }),
    }),
    attribution: LeadAttribution,
  })
  .meta({ title: 'Web-form lead webhook payload, version 1' });
export type FormLeadPayload = z.infer<typeof FormLeadPayload>;

/** A CRM deal reached "won": what offline-conversion uploads (Google Ads, Metrica) are built from. */
export const DealWonPayload = z
  .object({
    version: z.literal(1),
    id: z.guid().describe('event id; the webhook-id header is per (event, sink)'),
    type: z.literal('deal.won'),
    occurred_at: z.iso.datetime({ offset: true }),
    account_id: z.guid(),
    deal: z.object({
      id: z.guid().describe('our deal id: the transactionId of offline conversions (dedupe)'),
      external_id: z.string(),
      origin: z.enum(['api', 'amocrm', 'bitrix24']),
      won_at: z.iso.datetime({ offset: true }),
      revenue: z.string().nullable().describe('decimal in major units, exactly as stored ("15000.00")'),
      currency: str,
      phone: str.describe('the customer, E.164'),
      call_id: z.guid().nullable(),
    }),
    click: z.object({ gclid: str, gbraid: str, wbraid: str, yclid: str, ga_client_id: str, ym_client_id: str, visitor_id: str }),
  })
  .meta({ title: 'Won deal event payload, version 1' });
export type DealWonPayload = z.infer<typeof DealWonPayload>;

/** What a webhook receiver may get: a call, form or deal event (told apart by `type`). */
export const WebhookPayload = z.union([LeadPayload, FormLeadPayload, DealWonPayload]);

export interface FormLeadFacts {
  id: string;
  accountId: string;
  siteId: string;
  sessionId: string | null;
  url: string;
  name: string | null;
  phone: string | null;
  email: string | null;
  firstTime: boolean;
  linkedCallId: string | null;
  submittedAt: Date;
  visit: Visit | null;
}

export function formPayload(form: FormLeadFacts, event: { eventId: string; occurredAt: Date }): FormLeadPayload {
  return {
    version: 1,
    id: event.eventId,
    type: 'form.submitted',
    occurred_at: event.occurredAt.toISOString(),
    account_id: form.accountId,
    form: {
      id: form.id,
      site_id: form.siteId,
      url: form.url,
      name: form.name,
      phone: form.phone,
      email: form.email,
      first_lead: form.firstTime,
      linked_call_id: form.linkedCallId,
      submitted_at: form.submittedAt.toISOString(),
    },
    attribution: {
      confidence: form.visit ? 'exact' : 'none',
      overflow: false,
      reason: form.visit ? 'form posted with its visitor session' : 'no visitor session',
      session_id: form.sessionId,
      source_id: null,
      ...resolveChannel(null, form.visit),
      ...visitFields(form.visit),
      source_name: null,
      source_channel: null,
      source_cost: null,
      source_currency: null,
    },
  };
}
