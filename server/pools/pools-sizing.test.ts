import { describe, expect, it } from 'vitest';
import {
  adviseSize,
  delayDistribution,
  learnedCooldownSeconds,
  occupancyOf,
  peakConcurrency,
  protectedWindowMs,
  quantile,
  ruleOfThumbSize,
} from './pools-sizing.js';

describe('pool sizing', () => {
  it('quantiles by nearest rank', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([quantile(sorted, 0.5), quantile(sorted, 0.9), quantile(sorted, 0.99), quantile([], 0.5)]).toEqual([5, 9, 10, 0]);
  });

  it('learns the cool-down as the p99 of delays, never shorter than the hold, and only from enough calls', () => {
    const delays = Array.from({ length: 100 }, (_, i) => i); // p99 = 98
    expect(learnedCooldownSeconds(delays, 30)).toBe(98);
    expect(learnedCooldownSeconds(delays, 300)).toBe(300);
    expect(learnedCooldownSeconds(delays.slice(0, 19), 30)).toBeNull();
  });

  it('peak concurrency grows with the window kept after last activity; the protected window is the longest that fits', () => {
    // Visitors every 10 s, each active for 5 s.
    const o = occupancyOf(Array.from({ length: 10 }, (_, i) => ({ start: i * 10_000, lastActive: i * 10_000 + 5_000 })));
    expect(peakConcurrency(o, 0)).toBe(1);
    expect(peakConcurrency(o, 5_000)).toBe(1); // ends at the next start: half-open, the number is free again
    expect(peakConcurrency(o, 5_001)).toBe(2);
    expect(protectedWindowMs(o, 2, 60_000)).toBe(15_000);
    expect(protectedWindowMs(o, 20, 60_000)).toBe(60_000);
    expect(
      protectedWindowMs(
        occupancyOf([
          { start: 0, lastActive: 1 },
          { start: 0, lastActive: 1 },
        ]),
        1,
        1000,
      ),
    ).toBe(-1);
  });

  it('advises the size for 99.5 % and the expected accuracy at the current size', () => {
    const o = occupancyOf(Array.from({ length: 10 }, (_, i) => ({ start: i * 10_000, lastActive: i * 10_000 + 5_000 })));
    const delays = Array.from({ length: 20 }, (_, i) => i); // 0..19 s
    // Window max(hold 5, p99.5 = 19) s after last activity: 24 s per visitor, one every 10 s → 3 at once; + ceil(2·√3) = 4.
    expect(adviseSize(o, delays, 5, 2)).toEqual({ sizeForTarget: 7, expectedAccuracy: 0.8 }); // 2 numbers protect 15 s: 16 of 20 calls
    expect(adviseSize(o, delays.slice(0, 5), 5, 2)).toEqual({ sizeForTarget: null, expectedAccuracy: null });
  });

  it('histogram buckets in multiples of the hold, and the rule of thumb per 20 daily visitors', () => {
    const d = delayDistribution([0, 10, 20, 40, 1000], 40);
    expect(d.histogram).toEqual([
      { upToSeconds: 10, calls: 2 },
      { upToSeconds: 20, calls: 1 },
      { upToSeconds: 40, calls: 1 },
      { upToSeconds: 80, calls: 0 },
      { upToSeconds: 160, calls: 0 },
      { upToSeconds: 320, calls: 0 },
      { upToSeconds: null, calls: 1 },
    ]);
    expect(d).toMatchObject({ calls: 5, p50Seconds: 20, maxSeconds: 1000 });
    expect(ruleOfThumbSize(100, 24)).toBe(5);
    expect(ruleOfThumbSize(100, 1)).toBe(120);
    expect(ruleOfThumbSize(0, 24)).toBe(0);
  });
});
