import crypto from 'node:crypto';
import type { CallRecord } from '../calls/calls.repository.js';
import type { Disposition } from '../calls/calls.schemas.js';
import type { Logger } from '../logger.js';
import { type CallMedia, placeholderAgentSdp } from '../media/call-media.js';
import { mediaAddressOf } from '../media/sdp.js';
import { AgentLeg } from '../sip/agent-leg.js';
import type { SipStack } from '../sip/sip-stack.js';
import type { SipRequest } from '../sip/sip-types.js';
import type { DialTarget } from './live-call.js';
import { relayReinvite } from './reinvite-relay.js';
import { ERRORS } from '../errors.js';

/** Click to call: who asks, whom to ring first (the agent's phones), then whom to call out. */
export interface OriginateOrder {
  accountId: string;
  extension: { id: string; extension: string; name: string };
  /** The agent's registered phones, rung at once (through the SIP edge for those registered by it). */
  agentContacts: DialTarget[];
  /** The customer, dialled through the outbound trunk. */
  customer: DialTarget;
  customerNumber: string;
  /** The caller ID the customer sees (a tracking number). */
  shownNumber: string;
  /** The missed call this one returns. */
  callbackOf?: string | undefined;
}

export interface OriginatedCallDeps {
  stack: SipStack;
  /** rtpengine control for this call, keyed by our call id. */
  mediaFor(callId: string): CallMedia;
  logger: Logger;
  agentRingSeconds: number;
  customerRingSeconds: number;
  maxCallSeconds: number;
  registerLeg(callId: string): void;
  onEnded(record: CallRecord, call: OriginatedCall): void;
}

type Outcome = { answered: AgentLeg; sdp: string } | { failed: number };

/**
 * A callback placed from the app: our server calls the agent first and, once they pick up, the
 * customer through the outbound trunk, and bridges the two through rtpengine (recorded like any
 * call). Both sides are our UAC legs. rtpengine sees the customer as the "caller" side: a stand-in
 * offer anchors the agent's leg first; once the agent answers, its SDP is offered on to the
 * customer and the customer's answer completes the bridge (the late-offer path of live calls).
 */
export class OriginatedCall {
  readonly callId = crypto.randomUUID();
  readonly log: Logger;
  readonly startedAt = new Date();
  private readonly legs = new Map<string, AgentLeg>();
  private agentLeg: AgentLeg | undefined;
  private customerLeg: AgentLeg | undefined;
  private answeredAt: Date | undefined;
  private customerSdp: string | undefined;
  private disposition: Disposition = 'failed';
  private finalStatus: number | null = null;
  private endedBy: 'caller' | 'callee' | 'system' | undefined;
  private wake: (() => void) | undefined;
  private readonly maxLength: NodeJS.Timeout;
  private readonly media: CallMedia;

  constructor(
    readonly order: OriginateOrder,
    private readonly deps: OriginatedCallDeps,
  ) {
    this.media = deps.mediaFor(this.callId);
    this.log = deps.logger.child({ internalCallId: this.callId, kind: 'callback', extension: order.extension.extension });
    this.maxLength = setTimeout(() => void this.end('system'), deps.maxCallSeconds * 1000);
    this.maxLength.unref();
  }

  get ended(): boolean {
    return this.endedBy !== undefined;
  }

  get legCallIds(): string[] {
    return [...this.legs.keys()];
  }

  /** Rings the agent, then the customer; resolves once the call is bridged or over. */
  async run(): Promise<void> {
    try {
      const agentOffer = await this.media.offerFromCaller(placeholderAgentSdp(this.deps.stack.host));
      const agent = await this.ring(this.order.agentContacts, agentOffer, this.order.customerNumber, this.deps.agentRingSeconds);
      if (this.ended) return;
      if ('failed' in agent) {
        this.disposition = agent.failed === 486 || agent.failed === 600 ? 'busy' : 'no-answer';
        this.finalStatus = agent.failed;
        this.log.info({ type: 'originate_agent_missed', status: agent.failed }, 'the agent did not pick up; nobody is called');
        return void (await this.end('system'));
      }
      this.agentLeg = agent.answered;
      await this.media.answerFromAgentSide(agent.sdp);
      // The agent's own SDP, offered on to the customer as rtpengine's re-offer from the agent's side.
      const customerOffer = await this.media.reoffer('agent', agent.sdp);
      const customer = await this.ring([this.order.customer], customerOffer, this.order.shownNumber, this.deps.customerRingSeconds);
      if (this.ended) return;
      if ('failed' in customer) {
        this.disposition =
          customer.failed === 486 || customer.failed === 600 ? 'busy' : customer.failed === 408 || customer.failed === 480 ? 'no-answer' : 'failed';
        this.finalStatus = customer.failed;
        this.log.info({ type: 'originate_customer_missed', status: customer.failed }, 'the customer did not answer');
        return void (await this.end('system'));
      }
      this.customerLeg = customer.answered;
      this.customerSdp = customer.sdp;
      await this.media.reanswer('agent', customer.sdp);
      this.answeredAt = new Date();
      this.disposition = 'answered';
      this.log.info({ type: 'originate_bridged' }, 'agent and customer bridged');
    } catch (err) {
      this.log.error({ err, type: 'originate_failed' }, 'callback failed');
      await this.end('system');
    }
  }

  /** Rings targets at once; the first 2xx wins, the others are cancelled. */
  private ring(targets: DialTarget[], sdp: string, fromUser: string, seconds: number): Promise<Outcome> {
    if (targets.length === 0) return Promise.resolve({ failed: 480 });
    return new Promise((resolve) => {
      const pending = new Set<AgentLeg>();
      let settled = false;
      const failures: number[] = [];
      const settle = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.wake = undefined;
        for (const leg of pending) leg.cancel();
        resolve(outcome);
      };
      const timer = setTimeout(() => settle({ failed: 408 }), seconds * 1000);
      this.wake = () => settle({ failed: 487 });
      for (const target of targets) {
        const { uri, ...dial } = target;
        const leg = new AgentLeg(this.deps.stack, uri, fromUser, sdp, 70, `${this.callId}-${this.legs.size}`, { ...dial, fromUser });
        this.legs.set(leg.callId, leg);
        this.deps.registerLeg(leg.callId);
        pending.add(leg);
        leg.send((response) => {
          if (response.status < 200) {
            if (leg.state === 'calling') leg.state = 'early';
            return;
          }
          if (response.status < 300) {
            leg.ack(response);
            if (leg.state === 'answered') return; // a retransmitted 2xx
            leg.state = 'answered';
            if (settled || this.ended) return void leg.bye();
            pending.delete(leg);
            return settle({ answered: leg, sdp: response.content ?? '' });
          }
          leg.state = 'failed';
          pending.delete(leg);
          failures.push(response.status);
          if (failures.length === targets.length) settle({ failed: failures.find((s) => s === 486 || s === 600) ?? failures[0]! });
        });
      }
    });
  }

  /** Which leg an in-dialog request belongs to: Call-ID and both tags must match. */
  legOf(request: SipRequest): AgentLeg | undefined {
    const leg = this.legs.get(request.headers['call-id']);
    if (!leg?.remoteTag || request.headers.from?.params?.tag !== leg.remoteTag || request.headers.to?.params?.tag !== leg.localTag) return undefined;
    return leg;
  }

  /** A BYE from one side ends the call for both. */
  legHungUp(leg: AgentLeg): void {
    leg.state = 'ended';
    void this.end(leg === this.agentLeg ? 'caller' : leg === this.customerLeg ? 'callee' : 'system');
  }

  legAcked(leg: AgentLeg): void {
    leg.acked();
  }

  private reinviting: Promise<void> | undefined;

  /**
   * Hold and resume from either side once bridged, relayed to the other through rtpengine (the
   * customer is rtpengine's caller side). One at a time: a second meanwhile gets 491.
   */
  reinvite(request: SipRequest, leg: AgentLeg): void {
    const customer = this.customerLeg;
    const agent = this.agentLeg;
    if (this.ended || !customer || !agent || !this.answeredAt) return void this.deps.stack.replyError(request, ERRORS.dialogNotFound());
    if (this.reinviting) return void this.deps.stack.replyError(request, ERRORS.requestPending());
    this.reinviting = relayReinvite(
      { stack: this.deps.stack, caller: customer, agent, media: this.media, log: this.log },
      request,
      leg === customer ? 'caller' : 'agent',
    )
      .catch((err: unknown) => this.log.error({ err, type: 'reinvite_failed' }, 're-INVITE relay failed'))
      .finally(() => {
        this.reinviting = undefined;
      });
  }

  /** The one teardown path. Idempotent. */
  async end(by: 'caller' | 'callee' | 'system'): Promise<void> {
    if (this.endedBy) return;
    this.endedBy = by;
    const endedAt = new Date();
    clearTimeout(this.maxLength);
    this.wake?.();
    for (const leg of this.legs.values()) {
      if (leg.state === 'answered') leg.bye();
      else leg.cancel();
    }
    await this.media.remove();
    this.deps.onEnded(this.record(endedAt), this);
  }

  /** Ends the call from the API (the agent's "hang up" or a shutdown). */
  async hangup(): Promise<void> {
    await this.end('system');
  }

  private record(endedAt: Date): CallRecord {
    const seconds = (from: Date, to: Date) => Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
    const { order } = this;
    return {
      id: this.callId,
      accountId: order.accountId,
      sipCallId: `${this.callId}-0`,
      trunkId: null,
      numberId: null,
      trackingNumber: order.shownNumber,
      caller: order.extension.extension,
      callerName: order.extension.name,
      dialplan: 'callback',
      startedAt: this.startedAt.toISOString(),
      answeredAt: this.answeredAt?.toISOString() ?? null,
      endedAt: endedAt.toISOString(),
      disposition: this.disposition,
      talkSeconds: this.answeredAt ? seconds(this.answeredAt, endedAt) : 0,
      ringSeconds: seconds(this.startedAt, this.answeredAt ?? endedAt),
      answeredBy: this.customerLeg?.target ?? null,
      answeredTarget: this.answeredAt ? `tel:${order.customerNumber}` : null,
      hangupBy: this.endedBy ?? 'system',
      finalSipStatus: this.answeredAt ? 200 : this.finalStatus,
      ivrDigits: null,
      poolId: null,
      sourceId: null,
      sessionId: null,
      confidence: 'none',
      attribution: { reason: 'a callback placed from the app', candidates: [], overflow: false, previousCallId: null },
      visit: null,
      visitChain: [],
      firstTime: null,
      priorCalls: 0,
      recordingStatus: this.answeredAt ? 'pending' : 'none',
      // The recording's left channel is the customer: the converter picks their stream by this address.
      callerMedia: mediaAddressOf(this.customerSdp),
      spamReason: null,
      direction: 'outbound',
      callee: order.customerNumber,
      extensionId: order.extension.id,
      callbackOf: order.callbackOf ?? null,
    };
  }
}
