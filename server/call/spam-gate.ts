import type { CallControl } from '../dialplans/call-control.js';

/**
 * The "press 1 to be connected" gate for flagged callers: robodialers rarely press anything, people
 * do. True when the caller pressed 1 (typed ahead during the prompt counts too).
 */
export async function passesSpamGate(call: Pick<CallControl, 'playToCaller' | 'collectDigit' | 'ended'>, waitSeconds: number): Promise<boolean> {
  await call.playToCaller('press-one.wav');
  if (call.ended) return false;
  return (await call.collectDigit(waitSeconds * 1000)) === '1';
}

/** A blocked caller the account answers politely: a short goodbye, then we hang up. */
export async function sayGoodbye(call: Pick<CallControl, 'playToCaller' | 'hangup'>): Promise<void> {
  await call.playToCaller('goodbye.wav');
  await call.hangup();
}
