import { answerChallenge, type ParsedChallenge } from './digest-client.js';
import { RESTART_CSEQ_GAP, type Reliable2xx, recordRoute, routeHeaders, sendReliably } from './dialog-routing.js';
import type { SipStack } from './sip-stack.js';
import { newTag } from './sip-stack.js';
import type { NameAddr, SipRequest, SipResponse } from './sip-types.js';

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
  /** The session description the agent last gave us (its answer, or a re-INVITE's offer). */
  remoteSdp: string | undefined;

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
      this.remoteSdp = response.content;
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
    this.stack.send(
      {
        ...this.inDialog('INVITE', { contact: this.invite.headers.contact, 'content-type': 'application/sdp' }),
        content: sdp,
      },
      (response) => {
        // A refused offer leaves the session as it was (RFC 3261 14.1).
        if (response.status >= 200 && response.status < 300) this.localSdp = sdp;
        onResponse(response);
      },
    );
  }

  /** Answers the agent's re-INVITE, retransmitting the 2xx until the agent's ACK. */
  answerReinvite(request: SipRequest, sdp: string): void {
    this.pendingReinvite2xx?.stop();
    this.localSdp = sdp;
    if (request.content?.trim()) this.remoteSdp = request.content;
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
