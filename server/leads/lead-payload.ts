import { z } from 'zod';
import type { Queryable } from '../db/pool.js';
import { signedRecordingUrl } from '../recordings/recording-links.js';

/**
 * The lead every sink is built from, and the webhook body itself (version 1). Field names follow
 * what CallRail / CallTrackingMetrics users already map (answered, duration, first_call, utm_*,
 * landing_page_url, …), plus our attribution confidence and the pool-overflow flag.
 * Documented for receivers as server/leads/webhook-payload.schema.json (generated from this type;
 * a test keeps the two equal).
 */
export const EventType = z.enum(['call.started', 'call.completed', 'call.recording_ready', 'call.modified']);
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
  yclid: str,
  ga_client_id: str.describe('GA4 client id (the last two fields of the _ga cookie)'),
  ym_client_id: str.describe('Yandex Metrica ClientId'),
  source_cost: z.number().nullable(),
  source_currency: str,
});

export const LeadPayload = z
  .object({
    version: z.literal(1),
    id: z.guid().describe('event id; the webhook-id header is per (event, sink)'),
    type: EventType,
    occurred_at: z.iso.datetime({ offset: true }),
    account_id: z.guid(),
    change: z.object({ field: z.enum(['tags', 'notes', 'score', 'value']) }).nullable(),
    call: LeadCall,
    attribution: LeadAttribution,
  })
  .meta({ title: 'Call lead webhook payload, version 1' });
export type LeadPayload = z.infer<typeof LeadPayload>;

interface CallRow {
  id: string;
  account_id: string;
  sip_call_id: string;
  tracking_number: string;
  caller: string;
  caller_name: string | null;
  dialplan: string | null;
  started_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  disposition: string | null;
  talk_seconds: number;
  ring_seconds: number;
  answered_by: string | null;
  hangup_by: 'caller' | 'callee' | 'system' | null;
  final_sip_status: number | null;
  ivr_digits: string | null;
  session_id: string | null;
  source_id: string | null;
  confidence: 'exact' | 'ambiguous' | 'static' | 'none';
  attribution: Record<string, unknown>;
  first_time: boolean | null;
  prior_calls: number;
  recording_status: 'none' | 'pending' | 'ready' | 'failed';
  recording_duration_seconds: number | null;
  score: number | null;
  value: number | null;
  source_name: string | null;
  source_channel: string | null;
  source_medium: string | null;
  source_campaign: string | null;
  source_cost: number | null;
  source_currency: string | null;
  tags: string[];
  notes: Array<{ author: string; text: string; created_at: string }>;
}

/** Visit keys as attribution/ may spell them (snake or camel); the first non-empty wins. */
function pick(a: Record<string, unknown>, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = a[k];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return null;
}

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

/** Loads the call and builds the lead; undefined when the call row does not exist (yet). */
export async function buildLeadPayload(
  db: Queryable,
  ctx: PayloadContext,
  e: {
    eventId: string;
    type: EventType;
    accountId: string;
    callId: string;
    occurredAt: Date;
    change?: LeadPayload['change'];
  },
): Promise<LeadPayload | undefined> {
  const { rows } = await db.query<CallRow>(
    `SELECT c.*, s.name AS source_name, s.channel AS source_channel, s.medium AS source_medium, s.campaign AS source_campaign,
            s.cost AS source_cost, s.currency AS source_currency,
            COALESCE((SELECT array_agg(t.tag ORDER BY t.created_at, t.tag) FROM call_tags t WHERE t.call_id = c.id), '{}') AS tags,
            COALESCE((SELECT json_agg(json_build_object('author', n.author, 'text', n.text, 'created_at', n.created_at) ORDER BY n.created_at)
                      FROM call_notes n WHERE n.call_id = c.id), '[]') AS notes
       FROM calls c LEFT JOIN sources s ON s.id = c.source_id
      WHERE c.id = $1 AND c.account_id = $2`,
    [e.callId, e.accountId],
  );
  const c = rows[0];
  if (!c) return undefined;
  const a = c.attribution ?? {};
  const notes = c.notes.map((n) => ({ author: n.author, text: n.text, created_at: new Date(n.created_at).toISOString() }));
  const end = c.ended_at ?? null;
  const overflow = a.overflow === true || a.overflow === 'true' || a.shared === true;
  return {
    version: 1,
    id: e.eventId,
    type: e.type,
    occurred_at: e.occurredAt.toISOString(),
    account_id: c.account_id,
    change: e.change ?? null,
    call: {
      id: c.id,
      sip_call_id: c.sip_call_id,
      direction: 'inbound',
      status: (c.disposition ?? 'ringing') as LeadPayload['call']['status'],
      answered: c.disposition === 'answered' || c.answered_at !== null,
      voicemail: c.disposition === 'voicemail',
      start_time: c.started_at.toISOString(),
      answer_time: iso(c.answered_at),
      end_time: iso(end),
      duration: end ? Math.max(0, Math.round((end.getTime() - c.started_at.getTime()) / 1000)) : 0,
      talk_time: c.talk_seconds,
      ring_time: c.ring_seconds,
      caller_number: c.caller || null,
      caller_name: c.caller_name,
      tracking_number: c.tracking_number,
      business_number: c.answered_by,
      agent: c.answered_by,
      hangup_by: c.hangup_by,
      final_sip_status: c.final_sip_status,
      ivr_digits: c.ivr_digits,
      dialplan: c.dialplan,
      first_call: c.first_time,
      prior_calls: c.prior_calls,
      tags: c.tags,
      notes,
      note: notes.at(-1)?.text ?? null,
      score: c.score,
      value: c.value,
      recording_status: c.recording_status,
      recording_url: c.recording_status === 'ready' ? recordingUrl(ctx, c.account_id, c.id) : null,
      recording_duration: c.recording_duration_seconds,
    },
    attribution: {
      confidence: c.confidence,
      overflow,
      reason: pick(a, 'reason'),
      session_id: c.session_id,
      source_id: c.source_id,
      source: pick(a, 'source', 'utm_source', 'utmSource') ?? c.source_channel ?? c.source_name,
      medium: pick(a, 'medium', 'utm_medium', 'utmMedium') ?? c.source_medium,
      campaign: pick(a, 'campaign', 'utm_campaign', 'utmCampaign') ?? c.source_campaign,
      keyword: pick(a, 'keyword', 'utm_term', 'utmTerm'),
      landing_page_url: pick(a, 'landing_page_url', 'landingPageUrl', 'landing_page', 'landingPage', 'landing'),
      referring_url: pick(a, 'referring_url', 'referringUrl', 'referrer', 'referrer_url'),
      utm_source: pick(a, 'utm_source', 'utmSource'),
      utm_medium: pick(a, 'utm_medium', 'utmMedium'),
      utm_campaign: pick(a, 'utm_campaign', 'utmCampaign'),
      utm_term: pick(a, 'utm_term', 'utmTerm'),
      utm_content: pick(a, 'utm_content', 'utmContent'),
      gclid: pick(a, 'gclid'),
      yclid: pick(a, 'yclid'),
      ga_client_id: pick(a, 'gaClientId', 'ga_client_id', 'ga_cid'),
      ym_client_id: pick(a, 'ymClientId', 'ym_client_id', 'ym_uid'),
      source_cost: c.source_cost,
      source_currency: c.source_currency,
    },
  };
}

/** call.started is written while the call rings, before its row exists: only what the call path knows then. */
export function startedPayload(e: { eventId: string; accountId: string; callId: string; occurredAt: Date }): LeadPayload {
  const nulls = <K extends string>(keys: K[]) => Object.fromEntries(keys.map((k) => [k, null])) as Record<K, null>;
  return {
    version: 1,
    id: e.eventId,
    type: 'call.started',
    occurred_at: e.occurredAt.toISOString(),
    account_id: e.accountId,
    change: null,
    call: {
      id: e.callId,
      direction: 'inbound',
      status: 'ringing',
      answered: false,
      voicemail: false,
      start_time: e.occurredAt.toISOString(),
      duration: 0,
      talk_time: 0,
      ring_time: 0,
      tracking_number: '',
      prior_calls: 0,
      tags: [],
      notes: [],
      recording_status: 'none',
      ...nulls([
        'sip_call_id',
        'answer_time',
        'end_time',
        'caller_number',
        'caller_name',
        'business_number',
        'agent',
        'hangup_by',
        'final_sip_status',
        'ivr_digits',
        'dialplan',
        'first_call',
        'note',
        'score',
        'value',
        'recording_url',
        'recording_duration',
      ]),
    },
    attribution: {
      confidence: 'none',
      overflow: false,
      ...nulls([
        'reason',
        'session_id',
        'source_id',
        'source',
        'medium',
        'campaign',
        'keyword',
        'landing_page_url',
        'referring_url',
        'utm_source',
        'utm_medium',
        'utm_campaign',
        'utm_term',
        'utm_content',
        'gclid',
        'yclid',
        'ga_client_id',
        'ym_client_id',
        'source_cost',
        'source_currency',
      ]),
    },
  };
}
