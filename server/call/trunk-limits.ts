import { type AppError, ERRORS } from '../errors.js';
import type { TrunkCredentials } from '../trunks/trunks.repository.js';

/**
 * Per-trunk admission limits: new calls per second (a token bucket refilled continuously, so a
 * steady rate at the limit passes and a burst above it does not) and calls in progress at once.
 * In memory on purpose: the limit protects this node's SIP stack and rtpengine ports.
 */
export interface TrunkLimits {
  /** Takes a slot for a new call, or says which limit refuses it. */
  admit(trunk: Pick<TrunkCredentials, 'id' | 'maxCallsPerSecond' | 'maxConcurrentCalls'>, now?: number): AppError | undefined;
  /** The call admitted on this trunk ended. */
  release(trunkId: string): void;
  active(trunkId: string): number;
}

export function createTrunkLimits(): TrunkLimits {
  const active = new Map<string, number>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    admit(trunk, now = Date.now()) {
      const inProgress = active.get(trunk.id) ?? 0;
      if (trunk.maxConcurrentCalls !== null && inProgress >= trunk.maxConcurrentCalls) {
        return ERRORS.trunkLimit(`${trunk.maxConcurrentCalls} concurrent calls`);
      }
      if (trunk.maxCallsPerSecond !== null) {
        const rate = trunk.maxCallsPerSecond;
        const bucket = buckets.get(trunk.id) ?? { tokens: rate, at: now };
        bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
        bucket.at = now;
        buckets.set(trunk.id, bucket);
        if (bucket.tokens < 1) return ERRORS.trunkLimit(`${rate} calls per second`);
        bucket.tokens -= 1;
      }
      active.set(trunk.id, inProgress + 1);
      return undefined;
    },
    release(trunkId) {
      const left = (active.get(trunkId) ?? 1) - 1;
      if (left > 0) active.set(trunkId, left);
      else active.delete(trunkId);
    },
    active: (trunkId) => active.get(trunkId) ?? 0,
  };
}
