import { AppError } from '../errors.js';
import { RESTART_CSEQ_GAP, type Reliable2xx, recordRoute, routeHeaders, sendReliably } from './dialog-routing.js';
import { ReliableProvisionals } from './reliable-provisionals.js';
import { type SessionTimer, sessionTimerHeaders, sessionTimerOf } from './session-timer.js';
import type { SipStack } from './sip-stack.js';
import { newTag } from './sip-stack.js';
import type { NameAddr, SipRequest, SipResponse } from './sip-types.js';

/** Under RFC 3261's 200 ms, with room for the datagram's way. */
const TRYING_DELAY_MS = 150;

/**
 * Our UAS side of the caller's INVITE: provisional and final answers, 2xx retransmission until
 * ACK (npm `sip` leaves that to us), and in-dialog requests we send to the caller.
 */
export class CallerDialog {
  readonly localTag = newTag();
  private cseq = 1;
  private final: SipResponse | undefined;
  private pending2xx: Reliable2xx | undefined;
  private pendingReinvite2xx: Reliable2xx | undefined;
  acked = false;
  /** The session description we last gave the caller (our answer, or our latest offer). */
  localSdp: string | undefined;
  /** The session description the caller last gave us (its offer, or a re-INVITE's). */
  remoteSdp: string | undefined;
  /** Proxies that asked to stay on the path (the edge): echoed in our 1xx/2xx, Route on our requests. */
  readonly routeSet: NameAddr[];

  /** The session timer the caller asked for (RFC 4028), when it asked for one. */
  readonly sessionTimer: SessionTimer | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Our 18x sent reliably, when the caller's INVITE requires it (RFC 3262). */
  private readonly reliable: ReliableProvisionals | undefined;
  /** The 2xx is decided and waits for a PRACK: no more 18x. */
  private answering = false;
  /** A 100 Trying due unless something else answers first. */
  private tryingTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stack: SipStack,
    readonly invite: SipRequest,
    private readonly onAckTimeout: () => void,
    /** The caller no longer knows the dialog (our session refresh got 408 or 481). */
    private readonly onSessionLost: () => void = () => undefined,
  ) {
    this.routeSet = recordRoute(invite.headers);
    this.remoteSdp = invite.content;
    const timer = sessionTimerOf(invite);
    this.sessionTimer = timer instanceof AppError ? undefined : timer;
    // A caller that never PRACKs is as gone as one that never ACKs.
    this.reliable = ReliableProvisionals.required(invite) ? new ReliableProvisionals(stack, invite, () => this.onAckTimeout()) : undefined;
  }

  /** RFC 3261 12.1.1: a UAS copies Record-Route into every response that creates a dialog. */
  private dialogHeaders() {
    return { to: this.toWithTag(), contact: this.contact(), ...(this.routeSet.length > 0 ? { 'record-route': this.routeSet } : {}) };
  }

  /** A 2xx's headers: the dialog's, and the session timer's when there is one (RFC 4028 9). */
  private answerHeaders() {
    return { ...this.dialogHeaders(), ...(this.sessionTimer ? sessionTimerHeaders(this.sessionTimer) : {}) };
  }

  /**
   * When the refreshing is ours, a re-INVITE with the session unchanged every half interval
   * (RFC 4028 10); a caller that has forgotten the dialog (408, 481) ends the call.
   */
  private startRefreshing(): void {
    if (this.sessionTimer?.refresher !== 'uas' || this.refreshTimer) return;
    this.refreshTimer = setInterval(
      () => {
        if (!this.localSdp) return;
        this.reinvite(this.localSdp, (response) => {
          if (response.status >= 200 && response.status < 300) this.ackReinvite(response);
          else if (response.status === 408 || response.status === 481) this.onSessionLost();
        });
      },
      (this.sessionTimer.seconds * 1000) / 2,
    );
    this.refreshTimer.unref();
  }

  private toWithTag(): NameAddr {
    const to = this.invite.headers.to;
    return { ...to, params: { ...to.params, tag: this.localTag } };
  }

  private contact() {
    return [{ uri: `sip:${this.stack.host}:${this.stack.port}`, params: {} }];
  }

  get answered(): boolean {
    return this.final !== undefined && this.final.status < 300;
  }

  get finalSent(): boolean {
    return this.final !== undefined;
  }

  /**
   * A 100 Trying in `delayMs` unless a provisional or final response goes first (RFC 3261 17.2.1
   * asks for one only when the TU will not answer within 200 ms). An agent's 180 is usually relayed
   * well before: one datagram (and the peer's wake-up) fewer per call.
   */
  tryingUnlessAnswered(delayMs = TRYING_DELAY_MS): void {
    if (this.tryingTimer || this.final) return;
    this.tryingTimer = setTimeout(() => {
      if (!this.final && !this.provisionalSent) this.stack.reply(this.invite, 100);
    }, delayMs);
    this.tryingTimer.unref();
  }

  private provisionalSent = false;

  progress(status: 100 | 180 | 183, sdp?: string): void {
    if (this.final || this.answering) return;
    this.provisionalSent = true;
    clearTimeout(this.tryingTimer);
    if (status !== 100 && this.reliable) return this.reliable.send(status, this.dialogHeaders(), sdp);
    this.stack.reply(this.invite, status, {
      headers: status === 100 ? {} : this.dialogHeaders(),
      ...(sdp ? { content: sdp } : {}),
    });
  }

  /** The caller's PRACK for one of our reliable 18x: true when it named the one outstanding. */
  prack(request: SipRequest): boolean {
    return this.reliable?.prack(request) ?? false;
  }

  answer(sdp: string): void {
    if (this.final || this.answering) return;
    this.answering = true;
    const send = () => {
      if (this.final) return;
      this.reliable?.stop();
      this.localSdp = sdp;
      this.final = this.stack.reply(this.invite, 200, { headers: this.answerHeaders(), content: sdp });
      this.startRefreshing();
      this.pending2xx = sendReliably(this.stack, this.final, () => {
        if (!this.acked) this.onAckTimeout();
      });
    };
    if (this.reliable) this.reliable.beforeAnswer(send);
    else send();
  }

  /** Answers the caller's re-INVITE (hold/unhold) with 2xx retransmission until its ACK. */
  answerReinvite(request: SipRequest, sdp: string): void {
    this.pendingReinvite2xx?.stop();
    this.localSdp = sdp;
    if (request.content?.trim()) this.remoteSdp = request.content;
    const response = this.stack.reply(request, 200, { headers: this.answerHeaders(), content: sdp });
    this.pendingReinvite2xx = sendReliably(this.stack, response, () => undefined);
  }

  /** Sends a re-INVITE to the caller (the agent changed the session); the 2xx is ACKed by `ackReinvite`. */
  reinvite(sdp: string, onResponse: (response: SipResponse) => void): void {
    this.stack.send({ ...this.request('INVITE', this.cseq++, { 'content-type': 'application/sdp' }), content: sdp }, (response) => {
      // A refused offer leaves the session as it was (RFC 3261 14.1).
      if (response.status >= 200 && response.status < 300) this.localSdp = sdp;
      onResponse(response);
    });
  }

  ackReinvite(response: SipResponse): void {
    const h = this.invite.headers;
    this.stack.send({
      method: 'ACK',
      uri: response.headers.contact?.[0]?.uri ?? h.contact?.[0]?.uri ?? h.from.uri,
      headers: {
        via: [],
        ...routeHeaders(this.routeSet),
        to: response.headers.to,
        from: this.toWithTag(),
        'call-id': h['call-id'],
        cseq: { seq: response.headers.cseq.seq, method: 'ACK' },
        'max-forwards': 70,
      },
    });
  }

  reject(status: number): void {
    if (this.final) return;
    this.reliable?.stop();
    this.final = this.stack.reply(this.invite, status, { headers: { to: this.toWithTag() } });
  }

  /** An ACK from the caller: for our first 2xx (INVITE's CSeq) or for a re-INVITE's 2xx. */
  ack(cseq?: number): void {
    if (cseq === undefined || cseq === this.invite.headers.cseq.seq) {
      this.acked = true;
      this.pending2xx?.stop();
    } else {
      this.pendingReinvite2xx?.stop();
    }
  }

  /** Ends an answered dialog from our side. */
  bye(): void {
    this.stack.send(this.byeWith(this.cseq++));
  }

  /** The BYE a restarted node sends for this dialog (its CSeq well ahead of any request sent before). */
  byeAfterRestart(): SipRequest {
    return this.byeWith(this.cseq + RESTART_CSEQ_GAP);
  }

  private byeWith(seq: number): SipRequest {
    return this.request('BYE', seq);
  }

  /** A request of ours in this dialog: to the caller's Contact, through the route set, our tag in From. */
  private request(method: string, seq: number, headers: Record<string, unknown> = {}): SipRequest {
    const h = this.invite.headers;
    return {
      method,
      uri: h.contact?.[0]?.uri ?? h.from.uri,
      headers: {
        via: [],
        ...routeHeaders(this.routeSet),
        to: h.from,
        from: this.toWithTag(),
        'call-id': h['call-id'],
        cseq: { seq, method },
        'max-forwards': 70,
        contact: this.contact(),
        ...headers,
      },
    };
  }

  stopTimers(): void {
    clearTimeout(this.tryingTimer);
    this.reliable?.stop();
    this.pending2xx?.stop();
    this.pendingReinvite2xx?.stop();
    clearInterval(this.refreshTimer);
  }
}
