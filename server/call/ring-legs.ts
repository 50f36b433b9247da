import type { ForwardOutcome } from '../dialplans/call-control.js';
import type { AgentLeg } from '../sip/agent-leg.js';
import type { SipResponse } from '../sip/sip-types.js';

/** What the call does with the legs' answers; the ringing itself (who wins, who is cancelled) is ours. */
export interface RingHooks {
  /** An 18x from a leg (ringing, early media). */
  provisional(leg: AgentLeg, response: SipResponse): void;
  /**
   * The first leg to answer: bridge the caller to it. 'gone': the call ended meanwhile (its teardown
   * hangs the leg up); 'failed': it could not be bridged (the leg is hung up here).
   */
  bridge(leg: AgentLeg, response: SipResponse): Promise<'bridged' | 'gone' | 'failed'>;
  /** Whether the call is over (a 2xx arriving then is hung up at once). */
  ended(): boolean;
}

export interface RingResult {
  outcome: ForwardOutcome;
  /** 482 or 483 when every leg refused the call as a loop: the caller should hear the same. */
  loopStatus?: number;
}

export interface Ringing {
  result: Promise<RingResult>;
  /** The caller gave up: every leg still ringing is cancelled. */
  cancel(): void;
}

/** How a ring where every leg failed ends, from their final statuses. */
export function failedRing(statuses: number[]): RingResult {
  const busy = statuses.some((status) => status === 486 || status === 600);
  const noAnswer = statuses.every((status) => status === 408 || status === 480 || status === 487);
  const loop = statuses.length > 0 && statuses.every((status) => status === 482 || status === 483);
  return { outcome: { outcome: busy ? 'busy' : noAnswer ? 'no-answer' : 'failed' }, ...(loop ? { loopStatus: statuses[0] } : {}) };
}

/**
 * Sends every leg's INVITE at once: the first 2xx wins and the others are cancelled; a 2xx that
 * comes after (two phones answering together, or an answer racing our CANCEL) is ACKed and hung
 * up, as RFC 3261 13.2.2.4 asks of a forking UAC. Nobody answering within `ringSeconds` is
 * 'no-answer'.
 */
export function ringLegs(legs: AgentLeg[], ringSeconds: number, hooks: RingHooks): Ringing {
  const pending = new Set<AgentLeg>(legs);
  const failures: number[] = [];
  let winner: AgentLeg | undefined;
  let settled = false;
  let finish!: (result: RingResult) => void;
  const result = new Promise<RingResult>((resolve) => {
    finish = resolve;
  });
  const settle = (outcome: RingResult) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    for (const leg of pending) if (leg !== winner) leg.cancel();
    finish(outcome);
  };
  const timer = setTimeout(() => settle({ outcome: { outcome: 'no-answer' } }), ringSeconds * 1000);

  const answered = async (leg: AgentLeg, response: SipResponse) => {
    leg.ack(response);
    if (winner) {
      // A retransmission of the winner's 2xx needs only the ACK; anyone else's answer is too late.
      if (winner !== leg) hangUpLate(leg);
      return;
    }
    if (settled || hooks.ended() || leg.state === 'cancelled') return hangUpLate(leg);
    leg.state = 'answered';
    winner = leg;
    pending.delete(leg);
    const bridged = await hooks.bridge(leg, response);
    if (bridged === 'bridged') return settle({ outcome: { outcome: 'answered', target: leg.target } });
    if (bridged === 'failed') {
      leg.bye();
      return settle({ outcome: { outcome: 'failed' } });
    }
    settle({ outcome: { outcome: 'caller-gone' } });
  };

  for (const leg of legs) {
    leg.send((response) => {
      if (response.status < 200) {
        if (leg.state === 'calling') leg.state = 'early';
        return hooks.provisional(leg, response);
      }
      if (response.status < 300) return void answered(leg, response);
      leg.state = 'failed';
      leg.finalStatus = response.status;
      pending.delete(leg);
      failures.push(response.status);
      if (failures.length === legs.length) settle(failedRing(failures));
    });
  }
  return { result, cancel: () => settle({ outcome: { outcome: 'caller-gone' } }) };
}

function hangUpLate(leg: AgentLeg): void {
  leg.state = 'answered';
  leg.bye();
}
