import type { SipStack } from './sip-stack.js';
import type { NameAddr, SipResponse } from './sip-types.js';

/** RFC 3261 timers: the round-trip estimate and the cap on retransmission intervals. */
export const T1 = 500;
const T2 = 4_000;

/**
 * A dialog's route set from Record-Route (RFC 3261 12.1.1 / 12.1.2): in-dialog requests carry it
 * as Route headers so they pass the same proxies (the SIP edge) the INVITE went through. The UAS
 * keeps the INVITE's order; the UAC reverses the 2xx's.
 */
export function recordRoute(headers: { [name: string]: unknown }): NameAddr[] {
  const value = headers['record-route'];
  return Array.isArray(value) ? (value as NameAddr[]).map((entry) => ({ uri: entry.uri, params: { ...entry.params } })) : [];
}

/** Route headers for one request: a fresh copy, since npm `sip` shifts the first entry off when it sends. */
export function routeHeaders(routeSet: NameAddr[]): { route?: NameAddr[] } {
  return routeSet.length > 0 ? { route: routeSet.map((entry) => ({ ...entry, params: { ...entry.params } })) } : {};
}

/**
 * A node that crashed does not know how many in-dialog requests it sent after its journal noted the
 * dialog; its BYE jumps this far ahead so the peer never sees a CSeq go backwards.
 */
export const RESTART_CSEQ_GAP = 1000;

export interface Reliable2xx {
  stop(): void;
}

/**
 * Retransmits a 2xx to an INVITE (T1 doubling up to T2) until `stop()` (its ACK arrived): npm `sip`
 * leaves this to the UA core. No ACK within 64*T1 means the dialog never came up (RFC 3261 13.3.1.4).
 */
export function sendReliably(stack: SipStack, response: SipResponse, onAckTimeout: () => void): Reliable2xx {
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
