import type { SipStack } from './sip-stack.js';
import { newTag } from './sip-stack.js';
import type { NameAddr, SipRequest, SipResponse } from './sip-types.js';
import { answerChallenge, type ParsedChallenge } from './digest-client.js';
import { AppError } from '../errors.js';
import { ReliableProvisionals } from './reliable-provisionals.js';
import { type SessionTimer, sessionTimerHeaders, sessionTimerOf } from './session-timer.js';

const T1 = 500;
/** Under RFC 3261's 200 ms, with room for the datagram's way. */
const TRYING_DELAY_MS = 150;

/**
 * A dialog's route set from Record-Route (RFC 3261 12.1.1 / 12.1.2): in-dialog requests carry it
 * as Route headers so they pass the same proxies (the SIP edge) the INVITE went through. The UAS
 * keeps the INVITE's order; the UAC reverses the 2xx's.
 */
function recordRoute(headers: { [name: string]: unknown }): NameAddr[] {
  const value = headers['record-route'];
  return Array.isArray(value) ? (value as NameAddr[]).map((entry) => ({ uri: entry.uri, params: { ...entry.params } })) : [];
}

/** Route headers for one request: a fresh copy, since npm `sip` shifts the first entry off when it sends. */
/**
 * A node that crashed does not know how many in-dialog requests it sent after its journal noted the
 * dialog; its BYE jumps this far ahead so the peer never sees a CSeq go backwards.
 */
const RESTART_CSEQ_GAP = 1000;

function routeHeaders(routeSet: NameAddr[]): { route?: NameAddr[] } {
  return routeSet.length > 0 ? { route: routeSet.map((entry) => ({ ...entry, params: { ...entry.params } })) } : {};
}
const T2 = 4_000;

interface Reliable2xx {
  stop(): void;
}

/**
 * Retransmits a 2xx to an INVITE (T1 doubling up to T2) until `stop()` (its ACK arrived): npm `sip`
 * leaves this to the UA core. No ACK within 64*T1 means the dialog never came up (RFC 3261 13.3.1.4).
 */
function sendReliably(stack: SipStack, response: SipResponse, onAckTimeout: () => void): Reliable2xx {
  let interval = T1;
  let retransmit: NodeJS.Timeout;
  const resend = () => {
    stack.resend(response);
    interval = Math.min(interval * 2, T2);
    retransmit = setTimeout(resend, interval);
  };
  retransmit = setTimeout(resend, interval);
  const giveUp = setTimeout(() => {
    clearTimeout(retransmit);
    onAckTimeout();
  }, 64 * T1);
  return {
    stop() {
      clearTimeout(retransmit);
      clearTimeout(giveUp);
    },
  };
}

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
    const response = this.stack.reply(request, 200, { headers: this.answerHeaders(), content: sdp });
    this.pendingReinvite2xx = sendReliably(this.stack, response, () => undefined);
  }

  /** Sends a re-INVITE to the caller (the agent changed the session); the 2xx is ACKed by `ackReinvite`. */
  reinvite(sdp: string, onResponse: (response: SipResponse) => void): void {
    const h = this.invite.headers;
    this.localSdp = sdp;
    this.stack.send(
      {
        method: 'INVITE',
        uri: h.contact?.[0]?.uri ?? h.from.uri,
        headers: {
          via: [],
          ...routeHeaders(this.routeSet),
          to: h.from,
          from: this.toWithTag(),
          'call-id': h['call-id'],
          cseq: { seq: this.cseq++, method: 'INVITE' },
          'max-forwards': 70,
          contact: this.contact(),
          'content-type': 'application/sdp',
        },
        content: sdp,
      },
      onResponse,
    );
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
    const h = this.invite.headers;
    return {
      method: 'BYE',
      uri: h.contact?.[0]?.uri ?? h.from.uri,
      headers: {
        via: [],
        ...routeHeaders(this.routeSet),
        to: h.from,
        from: this.toWithTag(),
        'call-id': h['call-id'],
        cseq: { seq, method: 'BYE' },
        'max-forwards': 70,
        contact: this.contact(),
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

/** How to dial one target beyond its URI: an outbound trunk's caller ID, identity headers and credentials. */
export interface DialOptions {
  /** The user part of our From (the caller ID the far end shows); default the caller's. */
  fromUser?: string;
  /** Extra headers (P-Asserted-Identity, Diversion) as npm `sip` writes them. */
  headers?: Record<string, unknown>;
  /** Answers the far end's digest challenge (a carrier gateway). */
  credentials?: { username: string; password: string };
}

/** Our UAC side towards one agent target. */
export class AgentLeg {
  readonly callId: string;
  readonly localTag = newTag();
  private cseq = 1;
  /** The INVITE in flight: replaced once when the far end challenges it and we answer. */
  invite: SipRequest;
  private readonly credentials: { username: string; password: string } | undefined;
  private authAnswered = false;
  remoteTag: string | undefined;
  remoteContact: string | undefined;
  /** From the 2xx's Record-Route, reversed (RFC 3261 12.1.2); Route on every later request. */
  routeSet: NameAddr[] = [];
  state: 'calling' | 'early' | 'answered' | 'failed' | 'cancelled' | 'ended' = 'calling';
  private pendingReinvite2xx: Reliable2xx | undefined;
  finalStatus: number | undefined;
  /** The session description we last gave the agent (our offer in the INVITE or a re-INVITE, or an answer). */
  localSdp: string;

  constructor(
    private readonly stack: SipStack,
    readonly target: string,
    callerUser: string,
    sdp: string,
    maxForwards: number,
    callId: string,
    dial: DialOptions = {},
  ) {
    this.callId = callId;
    this.localSdp = sdp;
    this.credentials = dial.credentials;
    this.invite = {
      method: 'INVITE',
      uri: target,
      headers: {
        ...dial.headers,
        via: [],
        to: { uri: target, params: {} },
        // The agent sees the caller's number, not ours: that is who they will talk to.
        from: { uri: `sip:${dial.fromUser ?? callerUser}@${stack.host}`, params: { tag: this.localTag } },
        'call-id': callId,
        cseq: { seq: this.cseq++, method: 'INVITE' },
        contact: [{ uri: `sip:${stack.host}:${stack.port}`, params: {} }],
        'max-forwards': maxForwards,
        'content-type': 'application/sdp',
      },
      content: sdp,
    };
  }

  /**
   * Sends the INVITE. A carrier gateway's 401/407 (already ACKed by the transaction) is answered once
   * with our credentials, as a new INVITE with the next CSeq; a second challenge goes to `onResponse`
   * as the failure it is.
   */
  send(onResponse: (response: SipResponse) => void): void {
    const handle = (response: SipResponse) => {
      const challenged = response.status === 401 || response.status === 407;
      if (challenged && this.credentials && !this.authAnswered && response.headers.cseq.seq === this.invite.headers.cseq.seq && this.state === 'calling') {
        const challenge = (response.headers[response.status === 401 ? 'www-authenticate' : 'proxy-authenticate'] as ParsedChallenge[] | undefined)?.[0];
        const answer = challenge && answerChallenge(challenge, { method: 'INVITE', uri: this.invite.uri, ...this.credentials });
        if (answer) {
          this.authAnswered = true;
          this.invite = {
            ...this.invite,
            headers: {
              ...this.invite.headers,
              via: [],
              cseq: { seq: this.cseq++, method: 'INVITE' },
              [response.status === 401 ? 'authorization' : 'proxy-authorization']: [answer],
            },
          };
          this.stack.send(this.invite, handle);
          return;
        }
      }
      onResponse(response);
    };
    this.stack.send(this.invite, handle);
  }

  /** ACK for a 2xx (each retransmission of it too, and re-INVITEs' 2xx): end to end, so ours to send. */
  ack(response: SipResponse): void {
    if (response.headers.cseq.seq === this.invite.headers.cseq.seq) {
      this.remoteTag = response.headers.to.params.tag ?? undefined;
      this.remoteContact = response.headers.contact?.[0]?.uri ?? this.target;
      this.routeSet = recordRoute(response.headers).reverse();
    }
    this.stack.send({
      method: 'ACK',
      uri: this.remoteContact ?? this.target,
      headers: {
        via: [],
        ...routeHeaders(this.routeSet),
        to: response.headers.to,
        from: this.invite.headers.from,
        'call-id': this.callId,
        cseq: { seq: response.headers.cseq.seq, method: 'ACK' },
        'max-forwards': 70,
      },
    });
  }

  private remoteTo() {
    return { uri: this.target, params: { tag: this.remoteTag ?? null } };
  }

  /** A new request inside the agent's dialog: its route set, both tags, the next CSeq. */
  private inDialog(method: string, headers: Record<string, unknown> = {}): SipRequest {
    return this.request(method, ++this.cseq, headers);
  }

  /** The BYE a restarted node sends for this leg, if it was answered. */
  byeAfterRestart(): SipRequest | undefined {
    return this.state === 'answered' ? this.request('BYE', this.cseq + RESTART_CSEQ_GAP) : undefined;
  }

  private request(method: string, seq: number, headers: Record<string, unknown> = {}): SipRequest {
    return {
      method,
      uri: this.remoteContact ?? this.target,
      headers: {
        via: [],
        ...routeHeaders(this.routeSet),
        to: this.remoteTo(),
        from: this.invite.headers.from,
        'call-id': this.callId,
        cseq: { seq, method },
        'max-forwards': 70,
        ...headers,
      },
    };
  }

  /** Sends a re-INVITE to the answered agent (the caller put the call on hold or resumed it). */
  reinvite(sdp: string, onResponse: (response: SipResponse) => void): void {
    this.localSdp = sdp;
    this.stack.send(
      {
        ...this.inDialog('INVITE', { contact: this.invite.headers.contact, 'content-type': 'application/sdp' }),
        content: sdp,
      },
      onResponse,
    );
  }

  /** Answers the agent's re-INVITE, retransmitting the 2xx until the agent's ACK. */
  answerReinvite(request: SipRequest, sdp: string): void {
    this.pendingReinvite2xx?.stop();
    this.localSdp = sdp;
    const response = this.stack.reply(request, 200, { headers: { contact: this.invite.headers.contact }, content: sdp });
    this.pendingReinvite2xx = sendReliably(this.stack, response, () => undefined);
  }

  /**
   * Tells the agent how the transfer it asked for with REFER goes (RFC 3515): a NOTIFY carrying
   * the transfer target's status line as message/sipfrag; the last one ends the implicit subscription.
   */
  notifyTransfer(statusLine: string, final: boolean): void {
    if (this.state !== 'answered') return;
    this.stack.send({
      ...this.inDialog('NOTIFY', {
        contact: this.invite.headers.contact,
        event: 'refer',
        'subscription-state': final ? 'terminated;reason=noresource' : 'active;expires=60',
        'content-type': 'message/sipfrag;version=2.0',
      }),
      content: `${statusLine}\r\n`,
    });
  }

  /** ACKs the 2xx to our re-INVITE (the same ACK as for the first 2xx). */
  ackReinvite(response: SipResponse): void {
    this.ack(response);
  }

  acked(): void {
    this.pendingReinvite2xx?.stop();
  }

  cancel(): void {
    if (this.state !== 'calling' && this.state !== 'early') return;
    this.state = 'cancelled';
    const via = this.invite.headers.via[0];
    if (!via) return;
    // The same Route as the INVITE (RFC 3261 9.1): a phone rung through the SIP edge gets it from there.
    const route = this.invite.headers.route as NameAddr[] | undefined;
    this.stack.send({
      method: 'CANCEL',
      uri: this.invite.uri,
      headers: {
        via: [via],
        ...routeHeaders(route ?? []),
        to: this.invite.headers.to,
        from: this.invite.headers.from,
        'call-id': this.callId,
        cseq: { seq: this.invite.headers.cseq.seq, method: 'CANCEL' },
        'max-forwards': 70,
      },
    });
  }

  bye(): void {
    this.pendingReinvite2xx?.stop();
    if (this.state !== 'answered') return;
    this.state = 'ended';
    this.stack.send(this.inDialog('BYE'));
  }
}
