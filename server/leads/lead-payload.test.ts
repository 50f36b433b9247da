import { describe, expect, it } from 'vitest';
import { emptyVisit } from '../attribution/visit.js';
import type { CallView } from '../calls/call-view.js';
import type { CallStart } from '../calls/call-events.js';
import { buildLeadPayload, LeadPayload, startedPayload } from './lead-payload.js';

const started = new Date('2026-11-20T10:00:00.000Z');
function view(over: Partial<CallView> = {}): CallView {
  return {
    id: '7d4b0a52-5a0e-4c55-a0f4-1b0b5a1c2d3e',
    accountId: '00000000-0000-0000-0000-000000000001',
    sipCallId: 'abc@carrier',
    direction: 'inbound',
    callee: null,
    extensionId: null,
    callbackOf: null,
    queue: null,
    caller: '+79161234567',
    callerName: 'Ivan',
    trackingNumber: '+74951234567',
    startedAt: started,
    answeredAt: new Date(started.getTime() + 6_000),
    endedAt: new Date(started.getTime() + 66_000),
    disposition: 'answered',
    talkSeconds: 60,
    ringSeconds: 6,
    answeredBy: 'sip:agent@192.0.2.5',
    hangupBy: 'caller',
    finalSipStatus: 200,
    ivrDigits: '2',
    dialplan: 'sales',
    poolId: null,
    sessionId: '5f0c3a52-5a0e-4c55-a0f4-1b0b5a1c2d3e',
    confidence: 'exact',
    attribution: { reason: 'lease covered the call', candidates: [], overflow: false, previousCallId: null },
    visit: {
      ...emptyVisit(),
      source: 'google',
      medium: 'cpc',
      campaign: 'brand',
      keyword: 'pizza',
      utmSource: 'google',
      utmMedium: 'cpc',
      utmCampaign: 'brand',
      utmTerm: 'pizza',
      landingPage: 'https://shop.example/pizza',
      gclid: 'Cj0KCQ',
      gaClientId: '123.456',
      visitorId: 'v1',
    },
    staticSource: null,
    visitChain: [],
    channel: { source: 'google', medium: 'cpc', campaign: 'brand', keyword: 'pizza' },
    firstTime: true,
    priorCalls: 0,
    spamReason: null,
    score: 80,
    value: 1500.5,
    recording: { status: 'ready', durationSeconds: 61.5, channels: 2, error: null, retryAt: null },
    tags: ['hot'],
    notes: [{ id: 'n1', author: 'ann', text: 'called back', createdAt: new Date('2026-11-20T11:00:00.000Z') }],
    cursor: 'x',
    ...over,
  };
}
const event = { eventId: '11111111-1111-4111-8111-111111111111', type: 'call.completed' as const, occurredAt: new Date('2026-11-20T10:01:07.000Z') };

describe(buildLeadPayload.name, () => {
  it('maps a stored call to a v1 lead: call facts, visit fields in the webhook’s spelling, recording link', () => {
    const lead = buildLeadPayload(view(), { publicBaseUrl: 'https://calls.example' }, event);
    expect(LeadPayload.safeParse(lead).success).toBe(true);
    expect(lead.call).toMatchObject({
      status: 'answered',
      answered: true,
      duration: 66,
      talk_time: 60,
      caller_number: '+79161234567',
      tracking_number: '+74951234567',
      note: 'called back',
      tags: ['hot'],
      recording_status: 'ready',
      recording_duration: 61.5,
    });
    expect(lead.call.recording_url).toMatch(/^https:\/\/calls\.example\/v1\/calls\/7d4b0a52-5a0e-4c55-a0f4-1b0b5a1c2d3e\/recording/);
    expect(lead.attribution).toMatchObject({
      confidence: 'exact',
      source: 'google',
      keyword: 'pizza',
      utm_term: 'pizza',
      landing_page_url: 'https://shop.example/pizza',
      gclid: 'Cj0KCQ',
      ga_client_id: '123.456',
      visitor_id: 'v1',
      source_id: null,
      source_name: null,
    });
  });

  it('gives a static source’s own fields and cost, and no recording link before the recording exists', () => {
    const lead = buildLeadPayload(
      view({
        visit: null,
        confidence: 'static',
        staticSource: { id: 's1', name: 'Billboard M7', channel: 'outdoor', medium: null, campaign: 'winter', cost: 50000, currency: 'RUB' },
        channel: { source: 'Billboard M7', medium: 'outdoor', campaign: 'winter', keyword: null },
        recording: { status: 'pending', durationSeconds: null, channels: null, error: null, retryAt: null },
      }),
      { publicBaseUrl: 'https://calls.example' },
      event,
    );
    expect(lead.attribution).toMatchObject({ source: 'Billboard M7', source_channel: 'outdoor', campaign: 'winter', source_cost: 50000, utm_source: null });
    expect(lead.call).toMatchObject({ recording_status: 'pending', recording_url: null });
  });

  it('call.started carries caller, tracking number and the attribution snapshot taken at the INVITE', () => {
    const start: CallStart = {
      callId: '7d4b0a52-5a0e-4c55-a0f4-1b0b5a1c2d3e',
      accountId: '00000000-0000-0000-0000-000000000001',
      caller: '+79161234567',
      trackingNumber: '+74951234567',
      sipCallId: 'abc@carrier',
      callerName: null,
      dialplan: 'sales',
      startedAt: started,
      spam: false,
      attribution: {
        sessionId: '5f0c3a52-5a0e-4c55-a0f4-1b0b5a1c2d3e',
        sourceId: null,
        confidence: 'exact',
        reason: 'lease',
        candidates: [],
        likelihood: 1,
        visitChain: [],
        visit: view().visit,
        staticSource: null,
        overflow: false,
        previousCallId: null,
        firstTime: false,
        priorCalls: 2,
      },
    };
    const lead = startedPayload(start, { eventId: event.eventId, occurredAt: started });
    expect(LeadPayload.safeParse(lead).success).toBe(true);
    expect(lead.call).toMatchObject({ status: 'ringing', caller_number: '+79161234567', tracking_number: '+74951234567', first_call: false, prior_calls: 2 });
    expect(lead.attribution).toMatchObject({ confidence: 'exact', source: 'google', campaign: 'brand', gclid: 'Cj0KCQ' });
  });
});
