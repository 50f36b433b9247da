import type { Attributor } from '../attribution/attribution.types.js';
import type { CallEventSink } from '../calls/call-events.js';
import type { CallRecord } from '../calls/calls.repository.js';
import { LiveCall } from './live-call.js';
import type { DialplanRegistry } from '../dialplans/dialplan-registry.js';
import { runDialplan } from '../dialplans/dialplan-interpreter.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../logger.js';
import { createCallMedia, MediaError } from '../media/call-media.js';
import type { DtmfListener } from '../media/dtmf-listener.js';
import type { Rtpengine } from '../media/rtpengine.js';
import { admitInvite, isRejection } from '../sip/invite-admission.js';
import type { RoutingCache } from '../sip/routing-cache.js';
import { createSipStack, type SipStack } from '../sip/sip-stack.js';
import type { SipRemote, SipRequest } from '../sip/sip-types.js';

export interface B2buaDeps {
  host: string;
  port: number;
  publicHost: string;
  realm: string;
  nonceSecret: string;
  routing: RoutingCache;
  dialplans: DialplanRegistry;
  rtpengine: Rtpengine;
  dtmf: DtmfListener | undefined;
  attributor?: Attributor | undefined;
  events?: CallEventSink | undefined;
  promptsDir: string;
  ttsCacheDir: string;
  metrics: Metrics;
  logger: Logger;
  /** Receives every finished call (the record writer, then recording conversion). */
  onCallEnded(record: CallRecord): void;
  /** How often bridged calls are checked against rtpengine for media it dropped (default 30 s). */
  mediaCheckMs?: number;
}

export interface B2bua {
  readonly stack: SipStack;
  liveCalls(): number;
  /** Our call ids (rtpengine's call-id too) of the calls in progress. */
  liveCallIds(): string[];
  /** Ends every call (shutdown). */
  stop(): Promise<void>;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS';

/**
 * The SIP edge: admits INVITEs from trunks to tracking numbers, runs each call's dialplan in a
 * LiveCall and routes in-dialog requests (ACK, BYE, CANCEL, re-INVITE) to it.
 */
export function startB2bua(deps: B2buaDeps): B2bua {
  const sessions = new Map<string, LiveCall>(); // by caller call-id and by each agent leg call-id
  const log = deps.logger.child({ component: 'sip' });
  let stack: SipStack;

  function onInvite(rq: SipRequest, remote: SipRemote): void {
    const callId = rq.headers['call-id'];
    const existing = sessions.get(callId);
    if (existing || rq.headers.to.params.tag) {
      // Re-INVITE (hold/unhold, session refresh): relayed to the other side through rtpengine.
      if (!existing || !rq.headers.to.params.tag) return void stack.reply(rq, 481, 'Call/Transaction Does Not Exist');
      return existing.reinvite(rq, callId);
    }
    const admitted = admitInvite({ routing: deps.routing, realm: deps.realm, nonceSecret: deps.nonceSecret }, rq, remote);
    if (isRejection(admitted)) {
      log.info({ callId, type: 'invite_rejected', status: admitted.status, reason: admitted.reason, from: remote.address }, 'INVITE rejected');
      return void stack.reply(rq, admitted.status, admitted.reason, admitted.headers ? { headers: admitted.headers } : undefined);
    }
    const plan = deps.dialplans.get(admitted.route.dialplan);
    if (!plan) {
      log.error({ callId, type: 'dialplan_missing', dialplan: admitted.route.dialplan }, 'bound dialplan is not loaded');
      return void stack.reply(rq, 480, 'Dialplan Not Loaded');
    }
    stack.reply(rq, 100, 'Trying');
    const session: LiveCall = new LiveCall(admitted, plan, {
      stack,
      dtmf: deps.dtmf,
      attributor: deps.attributor,
      mediaFor: (internalId) =>
        createCallMedia({ rtpengine: deps.rtpengine, callId: internalId, callerTag: String(rq.headers.from.params.tag), record: plan.record, logger: log }),
      promptsDir: deps.promptsDir,
      ttsCacheDir: deps.ttsCacheDir,
      logger: deps.logger,
      registerLeg: (legCallId) => sessions.set(legCallId, session),
      onEnded: (record, s) => {
        sessions.delete(callId);
        for (const leg of s.legCallIds) sessions.delete(leg);
        deps.metrics.liveCalls.dec();
        s.log.info({ type: 'call_ended', disposition: record.disposition, talkSeconds: record.talkSeconds }, 'call ended');
        deps.onCallEnded(record);
      },
    });
    sessions.set(callId, session);
    deps.metrics.liveCalls.inc();
    session.log.info({ type: 'call_started', caller: admitted.caller, dialplan: plan.name }, 'call admitted');
    void run(session);
  }

  async function run(call: LiveCall): Promise<void> {
    try {
      await call.attribute();
      try {
        deps.events?.callStarted(call.startInfo());
      } catch (err) {
        // The contract says it must not throw; if a sink does anyway, the call still goes through.
        call.log.warn({ err, type: 'call_started_sink_failed' }, 'callStarted sink threw');
      }
      await runDialplan(call.plan, call, { logger: call.log });
    } catch (err) {
      const mediaDown = err instanceof MediaError;
      call.log.error({ err, type: mediaDown ? 'call_failed_media' : 'call_failed' }, mediaDown ? 'media relay unavailable' : 'call failed');
      await call.end('system', mediaDown ? 503 : 500);
    }
  }

  function onRequest(rq: SipRequest, remote: SipRemote): void {
    const callId = rq.headers['call-id'];
    try {
      switch (rq.method) {
        case 'INVITE':
          return onInvite(rq, remote);
        case 'ACK': {
          const s = sessions.get(callId);
          if (s && callId === s.ctx.request.headers['call-id']) s.callerAcked(rq.headers.cseq.seq);
          else s?.agentAcked(callId);
          return;
        }
        case 'CANCEL': {
          const s = sessions.get(callId);
          stack.reply(rq, s ? 200 : 481, s ? 'OK' : 'Call/Transaction Does Not Exist');
          if (s && !s.caller.finalSent) s.callerHungUp();
          return;
        }
        case 'BYE': {
          const s = sessions.get(callId);
          if (!s) return void stack.reply(rq, 481, 'Call/Transaction Does Not Exist');
          stack.reply(rq, 200, 'OK');
          if (callId === s.ctx.request.headers['call-id']) s.callerHungUp();
          else s.agentHungUp(callId);
          return;
        }
        case 'OPTIONS':
          return void stack.reply(rq, 200, 'OK', { headers: { allow: ALLOW, accept: 'application/sdp' } });
        default:
          if (rq.headers.to.params.tag && !sessions.has(callId)) return void stack.reply(rq, 481, 'Call/Transaction Does Not Exist');
          return void stack.reply(rq, 405, 'Method Not Allowed', { headers: { allow: ALLOW } });
      }
    } catch (err) {
      log.error({ err, callId, type: 'sip_request_failed' }, 'request handling failed');
      try {
        stack.reply(rq, 500, 'Server Internal Error');
      } catch {
        // The request was too broken to answer.
      }
    }
  }

  // rtpengine drops a call after its RTP timeout but never tells us: sweep for such calls. A few
  // queries at a time: with thousands of calls up, a burst would queue ahead of call set-up's
  // offer/answer in the ng client and delay new calls.
  async function sweepMedia(): Promise<void> {
    const calls = [...new Set(sessions.values())];
    for (let i = 0; i < calls.length; i += 4) {
      await Promise.all(calls.slice(i, i + 4).map((s) => s.checkMedia().catch(() => undefined)));
    }
  }
  let sweeping = false;
  const mediaSweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void sweepMedia().finally(() => {
      sweeping = false;
    });
  }, deps.mediaCheckMs ?? 30_000);
  mediaSweep.unref();

  stack = createSipStack({ host: deps.host, port: deps.port, publicHost: deps.publicHost, logger: log, onRequest });
  return {
    stack,
    liveCalls: () => new Set(sessions.values()).size,
    liveCallIds: () => [...new Set(sessions.values())].map((s) => s.callId),
    async stop() {
      clearInterval(mediaSweep);
      await Promise.all([...new Set(sessions.values())].map((s) => s.end('system', 503)));
      stack.stop();
    },
  };
}
