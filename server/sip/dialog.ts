import type { SipStack } from './sip-stack.js';
import { newTag } from './sip-stack.js';
import type { NameAddr, SipRequest, SipResponse } from './sip-types.js';

const T1 = 500;
const T2 = 4_000;

/**
 * Our UAS side of the caller's INVITE: provisional and final answers, 2xx retransmission until
 * ACK (npm `sip` leaves that to us), and in-dialog requests we send to the caller.
 */
export class CallerDialog {
  readonly localTag = newTag();
  private cseq = 1;
  private final: SipResponse | undefined;
  private retransmit: NodeJS.Timeout | undefined;
  private ackTimeout: NodeJS.Timeout | undefined;
  acked = false;

  constructor(private readonly stack: SipStack, readonly invite: SipRequest, private readonly onAckTimeout: () => void) {}

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

  progress(status: 100 | 180 | 183, sdp?: string): void {
    if (this.final) return;
    this.stack.reply(this.invite, status, status === 100 ? 'Trying' : status === 180 ? 'Ringing' : 'Session Progress', {
      headers: status === 100 ? {} : { to: this.toWithTag(), contact: this.contact() },
      ...(sdp ? { content: sdp } : {}),
    });
  }

  answer(sdp: string): void {
    if (this.final) return;
    this.final = this.stack.reply(this.invite, 200, 'OK', { headers: { to: this.toWithTag(), contact: this.contact() }, content: sdp });
    let interval = T1;
    const resend = () => {
      if (this.acked || !this.final) return;
      this.stack.resend(this.final);
      interval = Math.min(interval * 2, T2);
      this.retransmit = setTimeout(resend, interval);
    };
    this.retransmit = setTimeout(resend, interval);
    // RFC 3261 13.3.1.4: no ACK within 64*T1 means the dialog never came up.
    this.ackTimeout = setTimeout(() => { if (!this.acked) this.onAckTimeout(); }, 64 * T1);
  }

  reject(status: number, reason: string): void {
    if (this.final) return;
    this.final = this.stack.reply(this.invite, status, reason, { headers: { to: this.toWithTag() } });
  }

  ack(): void {
    this.acked = true;
    this.stopTimers();
  }

  /** Ends an answered dialog from our side. */
  bye(): void {
    const h = this.invite.headers;
    const target = h.contact?.[0]?.uri ?? h.from.uri;
    this.stack.send({
      method: 'BYE', uri: target,
      headers: {
        via: [], to: h.from, from: this.toWithTag(), 'call-id': h['call-id'],
        cseq: { seq: this.cseq++, method: 'BYE' }, 'max-forwards': 70, contact: this.contact(),
      },
    });
  }

  stopTimers(): void {
    clearTimeout(this.retransmit);
    clearTimeout(this.ackTimeout);
  }
}

/** Our UAC side towards one agent target. */
export class AgentLeg {
  readonly callId: string;
  readonly localTag = newTag();
  private cseq = 1;
  readonly invite: SipRequest;
  remoteTag: string | undefined;
  remoteContact: string | undefined;
  state: 'calling' | 'early' | 'answered' | 'failed' | 'cancelled' | 'ended' = 'calling';
  finalStatus: number | undefined;

  constructor(private readonly stack: SipStack, readonly target: string, callerUser: string, sdp: string, maxForwards: number, callId: string) {
    this.callId = callId;
    this.invite = {
      method: 'INVITE', uri: target,
      headers: {
        via: [],
        to: { uri: target, params: {} },
        // The agent sees the caller's number, not ours: that is who they will talk to.
        from: { uri: `sip:${callerUser}@${stack.host}`, params: { tag: this.localTag } },
        'call-id': callId,
        cseq: { seq: this.cseq++, method: 'INVITE' },
        contact: [{ uri: `sip:${stack.host}:${stack.port}`, params: {} }],
        'max-forwards': maxForwards,
        'content-type': 'application/sdp',
      },
      content: sdp,
    };
  }

  send(onResponse: (rs: SipResponse) => void): void {
    this.stack.send(this.invite, onResponse);
  }

  /** ACK for a 2xx (each retransmission of it too): end to end, so ours to send. */
  ack(rs: SipResponse): void {
    this.remoteTag = rs.headers.to.params.tag ?? undefined;
    this.remoteContact = rs.headers.contact?.[0]?.uri ?? this.target;
    this.stack.send({
      method: 'ACK', uri: this.remoteContact,
      headers: {
        via: [], to: rs.headers.to, from: this.invite.headers.from, 'call-id': this.callId,
        cseq: { seq: this.invite.headers.cseq.seq, method: 'ACK' }, 'max-forwards': 70,
      },
    });
  }

  cancel(): void {
    if (this.state !== 'calling' && this.state !== 'early') return;
    this.state = 'cancelled';
    const via = this.invite.headers.via[0];
    if (!via) return;
    this.stack.send({
      method: 'CANCEL', uri: this.invite.uri,
      headers: {
        via: [via], to: this.invite.headers.to, from: this.invite.headers.from, 'call-id': this.callId,
        cseq: { seq: this.invite.headers.cseq.seq, method: 'CANCEL' }, 'max-forwards': 70,
      },
    });
  }

  bye(): void {
    if (this.state !== 'answered') return;
    this.state = 'ended';
    this.stack.send({
      method: 'BYE', uri: this.remoteContact ?? this.target,
      headers: {
        via: [], to: { uri: this.target, params: { tag: this.remoteTag ?? null } }, from: this.invite.headers.from,
        'call-id': this.callId, cseq: { seq: ++this.cseq, method: 'BYE' }, 'max-forwards': 70,
      },
    });
  }
}
