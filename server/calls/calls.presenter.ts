import type { CallView } from './call-view.js';
import type { CallDetail, CallSummary } from './calls.schemas.js';

/** The call log row of the API and the UI. */
export function toCallSummary(call: CallView): CallSummary {
  return {
    id: call.id,
    direction: call.direction,
    callee: call.callee,
    callbackOf: call.callbackOf,
    caller: call.caller,
    trackingNumber: call.trackingNumber,
    startedAt: call.startedAt.toISOString(),
    answeredAt: call.answeredAt?.toISOString() ?? null,
    endedAt: call.endedAt?.toISOString() ?? null,
    disposition: call.disposition,
    talkSeconds: call.talkSeconds,
    ringSeconds: call.ringSeconds,
    answeredBy: call.answeredBy,
    source: call.channel.source,
    campaign: call.channel.campaign,
    confidence: call.confidence,
    firstTime: call.firstTime,
    tags: call.tags,
    hasRecording: call.recording.status === 'ready',
  };
}

/** The API's attribution block: the resolved channel, the visit's fields, and how sure we are. */
export function toAttributionDetail(call: CallView): CallDetail['attribution'] {
  const visit = call.visit;
  const utm: Record<string, string> = {};
  const tags = {
    utm_source: visit?.utmSource,
    utm_medium: visit?.utmMedium,
    utm_campaign: visit?.utmCampaign,
    utm_term: visit?.utmTerm,
    utm_content: visit?.utmContent,
  };
  for (const [key, value] of Object.entries(tags)) if (value) utm[key] = value;
  return {
    sessionId: call.sessionId,
    sourceId: call.staticSource?.id ?? null,
    ...call.channel,
    landingPage: visit?.landingPage ?? null,
    referrer: visit?.referrer ?? null,
    utm,
    utmSource: visit?.utmSource ?? null,
    utmMedium: visit?.utmMedium ?? null,
    utmCampaign: visit?.utmCampaign ?? null,
    utmTerm: visit?.utmTerm ?? null,
    utmContent: visit?.utmContent ?? null,
    gclid: visit?.gclid ?? null,
    yclid: visit?.yclid ?? null,
    gaClientId: visit?.gaClientId ?? null,
    ymClientId: visit?.ymClientId ?? null,
    confidence: call.confidence,
    reason: call.attribution.reason,
    likelihood: call.attribution.likelihood ?? null,
    visitChain: call.visitChain,
  };
}

export function toCallDetail(call: CallView): CallDetail {
  return {
    ...toCallSummary(call),
    callerName: call.callerName,
    queue: call.queue as CallDetail['queue'],
    dialplan: call.dialplan,
    hangupBy: call.hangupBy,
    finalSipStatus: call.finalSipStatus,
    ivrDigits: call.ivrDigits,
    priorCalls: call.priorCalls,
    score: call.score,
    value: call.value,
    attribution: toAttributionDetail(call),
    notes: call.notes.map((note) => ({ id: note.id, author: note.author, text: note.text, createdAt: note.createdAt.toISOString() })),
    recording:
      call.recording.status === 'ready'
        ? { url: `/v1/calls/${call.id}/recording`, durationSeconds: call.recording.durationSeconds ?? 0, channels: call.recording.channels ?? 2 }
        : null,
    recordingStatus: call.recording.status,
    recordingError: call.recording.status === 'failed' ? call.recording.error : null,
    recordingRetryAt: call.recording.status === 'failed' ? (call.recording.retryAt?.toISOString() ?? null) : null,
  };
}
