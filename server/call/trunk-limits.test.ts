import { describe, expect, it } from 'vitest';
import { createTrunkLimits } from './trunk-limits.js';

const trunk = (maxCallsPerSecond: number | null, maxConcurrentCalls: number | null) => ({ id: 't1', maxCallsPerSecond, maxConcurrentCalls });

describe(createTrunkLimits.name, () => {
  it('holds concurrent calls to the limit and frees a slot when a call ends', () => {
    const limits = createTrunkLimits();
    expect(limits.admit(trunk(null, 2))).toBeUndefined();
    expect(limits.admit(trunk(null, 2))).toBeUndefined();
    expect(limits.admit(trunk(null, 2))).toMatchObject({ sipStatus: 503, sipHeaders: { 'retry-after': 1 } });
    limits.release('t1');
    expect(limits.admit(trunk(null, 2))).toBeUndefined();
    expect(limits.active('t1')).toBe(2);
  });

  it('passes a steady rate at the limit and refuses a burst above it', () => {
    const limits = createTrunkLimits();
    const t0 = 1_000_000;
    const burst = Array.from({ length: 8 }, () => limits.admit(trunk(5, null), t0));
    expect(burst.filter((refusal) => refusal === undefined)).toHaveLength(5);
    // Then 5 calls a second, evenly spaced, all pass.
    const steady = Array.from({ length: 10 }, (_, i) => limits.admit(trunk(5, null), t0 + 200 * (i + 1)));
    expect(steady.every((refusal) => refusal === undefined)).toBe(true);
  });

  it('without limits admits everything', () => {
    const limits = createTrunkLimits();
    expect(Array.from({ length: 100 }, () => limits.admit(trunk(null, null))).every((refusal) => refusal === undefined)).toBe(true);
  });
});
