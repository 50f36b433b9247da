import type { AttributionSnapshot } from '../attribution/attribution.types.js';
import type { CallRecord } from '../calls/calls.repository.js';
import type { Disposition } from '../calls/calls.schemas.js';
import type { ForwardOutcome } from '../dialplans/call-control.js';
import type { Dialplan } from '../dialplans/dialplan.schemas.js';
import { mediaAddressOf } from '../media/sdp.js';
import type { Queue } from '../pbx/queues.schemas.js';
import type { InviteContext } from '../sip/invite-admission.js';

/** The queue a call waited in, and how that ended. */
export interface QueueStay {
  queue: Queue;
  joinedAt: Date;
  leftAt?: Date;
  outcome?: 'answered' | 'timeout' | 'no-agents' | 'abandoned';
}

/** What a live call knows about itself that its record is made of. */
export interface CallFacts {
  callId: string;
  ctx: InviteContext;
  plan: Dialplan;
  startedAt: Date;
  answeredAt: Date | undefined;
  /** The SIP URI that answered, and the dialplan target it stands for. */
  answeredBy: string | undefined;
  answeredTarget: string | undefined;
  endedBy: 'caller' | 'callee' | 'system' | undefined;
  /** The final status sent to the caller when the call was never answered. */
  finalStatus: number | null;
  digits: string;
  voicemail: boolean;
  lastForward: ForwardOutcome['outcome'] | undefined;
  attribution: AttributionSnapshot | undefined;
  /** Whether attribution runs here at all (the reason differs when it did not answer in time). */
  attributorConfigured: boolean;
  spamReason: string | undefined;
  queueStay: QueueStay | undefined;
}

const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));

export function callDisposition(f: Pick<CallFacts, 'answeredAt' | 'voicemail' | 'lastForward' | 'endedBy'>): Disposition {
  if (f.answeredAt) return 'answered';
  if (f.voicemail) return 'voicemail';
  if (f.lastForward === 'busy') return 'busy';
  if (f.lastForward === 'no-answer') return 'no-answer';
  if (f.lastForward === 'failed') return 'failed';
  return f.endedBy === 'caller' ? 'cancelled' : 'failed';
}

/** The call's record as of `endedAt` (the end, or now for the crash journal). */
export function buildCallRecord(f: CallFacts, endedAt: Date): CallRecord {
  const a = f.attribution;
  const { ctx } = f;
  return {
    id: f.callId,
    accountId: ctx.route.accountId,
    sipCallId: ctx.request.headers['call-id'],
    trunkId: ctx.trunk?.id ?? null,
    numberId: ctx.route.numberId,
    trackingNumber: ctx.trackingNumber,
    caller: ctx.caller,
    callerName: ctx.callerName ?? null,
    dialplan: f.plan.name,
    startedAt: f.startedAt.toISOString(),
    answeredAt: f.answeredAt?.toISOString() ?? null,
    endedAt: endedAt.toISOString(),
    disposition: callDisposition(f),
    talkSeconds: f.answeredAt ? seconds(f.answeredAt, endedAt) : 0,
    ringSeconds: seconds(f.startedAt, f.answeredAt ?? endedAt),
    answeredBy: f.answeredBy ?? null,
    answeredTarget: f.answeredTarget ?? null,
    hangupBy: f.endedBy ?? 'system',
    finalSipStatus: f.answeredAt ? 200 : f.finalStatus,
    ivrDigits: f.digits || null,
    poolId: ctx.route.poolId,
    sourceId: a?.sourceId ?? ctx.route.sourceId,
    sessionId: a?.sessionId ?? null,
    confidence: a?.confidence ?? (ctx.route.sourceId ? 'static' : 'none'),
    attribution: {
      reason: a?.reason ?? (f.attributorConfigured ? 'attribution unavailable when the call arrived' : 'attribution not configured'),
      candidates: a?.candidates ?? [],
      likelihood: a?.likelihood ?? null,
      overflow: a?.overflow ?? false,
      previousCallId: a?.previousCallId ?? null,
    },
    visit: a?.visit ?? null,
    visitChain: a?.visitChain ?? [],
    firstTime: a?.firstTime ?? null,
    priorCalls: a?.priorCalls ?? 0,
    recordingStatus: f.plan.record && (f.answeredAt || f.voicemail) ? 'pending' : 'none',
    callerMedia: mediaAddressOf(ctx.request.content),
    spamReason: f.spamReason ?? null,
    direction: ctx.pbx?.direction ?? 'inbound',
    callee: ctx.pbx?.callee ?? null,
    extensionId: ctx.pbx?.extensionId ?? null,
    callbackOf: ctx.pbx?.callbackOf ?? null,
    ...queueColumns(f.queueStay, endedAt),
  };
}

/** A caller still waiting when the call ended abandoned the queue. */
function queueColumns(
  q: QueueStay | undefined,
  endedAt: Date,
): Pick<CallRecord, 'queueName' | 'queueWaitSeconds' | 'queueOutcome' | 'queueWithinServiceLevel'> {
  if (!q) return {};
  const waited = seconds(q.joinedAt, q.leftAt ?? endedAt);
  const outcome = q.outcome ?? 'abandoned';
  return {
    queueName: q.queue.name,
    queueWaitSeconds: waited,
    queueOutcome: outcome,
    queueWithinServiceLevel: outcome === 'answered' ? waited <= q.queue.serviceLevelSeconds : outcome === 'no-agents' ? null : false,
  };
}
