import crypto from 'node:crypto';
import { T1 } from './dialog-routing.js';
import type { SipStack } from './sip-stack.js';
import { optionTags, type SipRequest } from './sip-types.js';

interface Outstanding {
  rseq: number;
  withSdp: boolean;
  retransmit: NodeJS.Timeout;
  giveUp: NodeJS.Timeout;
}

/**
 * The UAS side of reliable provisional responses (RFC 3262) for a caller whose INVITE requires
 * them (`Require: 100rel`, as some interconnects do for early media): each 18x carries
 * `Require: 100rel` and an `RSeq`, is retransmitted (T1, doubling) until the caller's PRACK names
 * it in `RAck`, and the next one waits for that PRACK (one outstanding at a time, 3262 section 3).
 * A 2xx waits for the PRACK of an 18x that carried SDP. No PRACK within 64*T1 gives up: `onTimeout`.
 */
export class ReliableProvisionals {
  /** RFC 3262 7.1: the first RSeq is random, below 2**31; we stay well below so it never wraps. */
  private rseq = crypto.randomInt(1, 2 ** 30);
  private outstanding: Outstanding | undefined;
  private readonly waiting: Array<() => void> = [];
  private stopped = false;

  constructor(
    private readonly stack: SipStack,
    private readonly invite: SipRequest,
    private readonly onTimeout: () => void,
  ) {}

  /** Whether an INVITE asks for reliable provisionals (Require; Supported alone leaves us the choice, and we decline). */
  static required(invite: SipRequest): boolean {
    return optionTags(invite.headers.require).includes('100rel');
  }

  /** Sends an 18x reliably, after the one before it was PRACKed. */
  send(status: 180 | 183, headers: Record<string, unknown>, sdp?: string): void {
    if (this.stopped) return;
    if (this.outstanding) {
      this.waiting.push(() => this.send(status, headers, sdp));
      return;
    }
    const rseq = this.rseq++;
    const response = this.stack.reply(this.invite, status, {
      headers: { ...headers, require: '100rel', rseq: String(rseq) },
      ...(sdp ? { content: sdp } : {}),
    });
    let interval = T1;
    const resend = () => {
      this.stack.resend(response);
      interval *= 2;
      if (this.outstanding) this.outstanding.retransmit = setTimeout(resend, interval);
    };
    this.outstanding = {
      rseq,
      withSdp: sdp !== undefined && sdp !== '',
      retransmit: setTimeout(resend, interval),
      giveUp: setTimeout(() => {
        this.stop();
        this.onTimeout();
      }, 64 * T1),
    };
  }

  /**
   * A PRACK from the caller: true when its RAck ("rseq cseq method") names the outstanding 18x,
   * which then stops and lets the next response go. The caller answers the PRACK (200, or 481).
   */
  prack(request: SipRequest): boolean {
    const rack = String(request.headers.rack ?? '')
      .trim()
      .split(/\s+/);
    const current = this.outstanding;
    const cseq = this.invite.headers.cseq;
    if (!current || Number(rack[0]) !== current.rseq || Number(rack[1]) !== cseq.seq || rack[2]?.toUpperCase() !== cseq.method) return false;
    clearTimeout(current.retransmit);
    clearTimeout(current.giveUp);
    this.outstanding = undefined;
    // After the caller's code has answered this PRACK: its 200 goes out before the 2xx or 18x it released.
    const next = this.waiting.shift();
    if (next) queueMicrotask(next);
    return true;
  }

  /** Runs `send` now, or once the 18x with SDP still unacknowledged is PRACKed (a 2xx must not overtake it). */
  beforeAnswer(send: () => void): void {
    if (!this.outstanding?.withSdp) {
      send();
      return;
    }
    this.waiting.push(() => this.beforeAnswer(send));
  }

  /** A final response went out, or the call ended: no more retransmissions. */
  stop(): void {
    this.stopped = true;
    if (this.outstanding) {
      clearTimeout(this.outstanding.retransmit);
      clearTimeout(this.outstanding.giveUp);
    }
    this.outstanding = undefined;
    this.waiting.length = 0;
  }
}
