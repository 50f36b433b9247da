/**
 * Pool sizing from measured data (no I/O): how late people call after their last activity on
 * the site, and how many numbers it takes to keep each number away from other visitors that
 * long. A visitor's lease runs [start, last activity + hold); with LRU reuse a pool of N numbers
 * keeps every number unused for as long as the peak concurrency of [start, last activity + W)
 * stays ≤ N. A call later than W after the last activity may land on a number someone else holds.
 */

/** Share of calls that should reach the right visitor (the product's goal). */
export const TARGET_ACCURACY = 0.995;
/** Fewer measured calls than this: the delay distribution is not trusted for advice. */
export const MIN_MEASURED_CALLS = 20;
/** The common rule of thumb: one number per this many daily visitors. */
export const VISITORS_PER_NUMBER_RULE = 20;

export interface HolderInterval {
  /** ms: the lease started (or a visitor found the pool exhausted). */
  start: number;
  /** ms: the holder's last activity (last keep-alive or page view). */
  lastActive: number;
}

/** q-quantile (0..1) of sorted values, nearest rank; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * The pool's cool-down (seconds a released number rests before another visitor gets it): the p99
 * of measured call delays after last activity, never shorter than the hold; null until enough
 * calls were measured.
 */
export function learnedCooldownSeconds(delaysSeconds: readonly number[], holdSeconds: number): number | null {
  if (delaysSeconds.length < MIN_MEASURED_CALLS) return null;
  const sorted = [...delaysSeconds].sort((a, b) => a - b);
  return Math.max(holdSeconds, Math.ceil(quantile(sorted, 0.99)));
}

/** Prepared intervals: starts and last activities each sorted once, so every sweep is linear. */
export interface Occupancy {
  starts: Float64Array;
  lastActives: Float64Array;
}

export function occupancyOf(intervals: readonly HolderInterval[]): Occupancy {
  const starts = Float64Array.from(intervals, (i) => i.start).sort();
  const lastActives = Float64Array.from(intervals, (i) => Math.max(i.start, i.lastActive)).sort();
  return { starts, lastActives };
}

/** Most visitors holding (or keeping cool) a number at once, when each keeps it `windowMs` after their last activity. */
export function peakConcurrency(o: Occupancy, windowMs: number): number {
  let peak = 0;
  let held = 0;
  let j = 0;
  for (let i = 0; i < o.starts.length; i++) {
    const t = o.starts[i]!;
    // Half-open: a number released at t can go to a visitor arriving at t.
    while (j < o.lastActives.length && o.lastActives[j]! + windowMs <= t) {
      held--;
      j++;
    }
    held++;
    if (held > peak) peak = held;
  }
  return peak;
}

/** The longest window after last activity that `size` numbers can keep for every visitor (ms); -1 when not even 0. */
export function protectedWindowMs(o: Occupancy, size: number, maxMs: number): number {
  if (peakConcurrency(o, 0) > size) return -1;
  if (peakConcurrency(o, maxMs) <= size) return maxMs;
  // To the millisecond (about 30 linear sweeps for a day's window).
  let low = 0;
  let high = Math.ceil(maxMs);
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (peakConcurrency(o, mid) <= size) low = mid;
    else high = mid;
  }
  return low;
}

export interface DelayDistribution {
  calls: number;
  p50Seconds: number;
  p90Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
  /** Calls per bucket of delay after last activity; bucket edges are multiples of the hold. */
  histogram: Array<{ upToSeconds: number | null; calls: number }>;
}

export function delayDistribution(delaysSeconds: readonly number[], holdSeconds: number): DelayDistribution {
  const sorted = [...delaysSeconds].sort((a, b) => a - b);
  const unit = holdSeconds > 0 ? holdSeconds : 60;
  const edges = [0.25, 0.5, 1, 2, 4, 8].map((m) => Math.round(m * unit * 10) / 10);
  const histogram: DelayDistribution['histogram'] = [...edges.map((e) => ({ upToSeconds: e, calls: 0 })), { upToSeconds: null, calls: 0 }];
  for (const d of sorted) {
    const bucket = edges.findIndex((e) => d <= e);
    histogram[bucket === -1 ? edges.length : bucket]!.calls++;
  }
  const round = (v: number) => Math.round(v * 10) / 10;
  return {
    calls: sorted.length,
    p50Seconds: round(quantile(sorted, 0.5)),
    p90Seconds: round(quantile(sorted, 0.9)),
    p99Seconds: round(quantile(sorted, 0.99)),
    maxSeconds: round(sorted.at(-1) ?? 0),
    histogram,
  };
}

/** Share of delays ≤ seconds (sorted input). */
function shareWithin(sorted: readonly number[], seconds: number): number {
  if (sorted.length === 0) return 1;
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sorted[mid]! <= seconds) low = mid + 1;
    else high = mid;
  }
  return low / sorted.length;
}

export interface SizingAdvice {
  /** Share of calls expected to reach the right visitor at `size` (a lower bound: reuse is assumed at the earliest moment). */
  expectedAccuracy: number | null;
  /** Smallest pool whose numbers stay unused long enough for 99.5 % of measured calls; null without enough calls. */
  sizeForTarget: number | null;
}

/**
 * @example
 *   const o = occupancyOf(intervals);
 *   adviseSize(o, delays, 60, 40) // { expectedAccuracy: 0.97, sizeForTarget: 52 }
 *   // sizeForTarget: the peak of [start, last activity + max(hold, p99.5 delay)) plus 2·√peak
 */
export function adviseSize(o: Occupancy, delaysSeconds: readonly number[], holdSeconds: number, size: number): SizingAdvice {
  if (delaysSeconds.length < MIN_MEASURED_CALLS) return { expectedAccuracy: null, sizeForTarget: null };
  const sorted = [...delaysSeconds].sort((a, b) => a - b);
  // The hold is kept for everyone anyway (the lease itself), so the window is never shorter.
  const needMs = Math.max(holdSeconds, quantile(sorted, TARGET_ACCURACY)) * 1000;
  // Tomorrow's peak is not today's: two standard deviations of a Poisson count on top.
  const peak = peakConcurrency(o, needMs);
  const sizeForTarget = Math.max(1, peak + Math.ceil(2 * Math.sqrt(peak)));
  const maxMs = Math.max(needMs, (sorted.at(-1) ?? 0) * 1000);
  const windowMs = protectedWindowMs(o, size, maxMs);
  let expected: number;
  if (windowMs < 0) {
    // Not even the visitors present at once fit: some find the pool exhausted and their calls are lost.
    // Rough: the share of visitors who find a number, times the calls that come within the hold.
    expected = Math.min(1, size / Math.max(1, peakConcurrency(o, 0))) * shareWithin(sorted, holdSeconds);
  } else {
    expected = shareWithin(sorted, windowMs / 1000);
  }
  return { expectedAccuracy: Math.round(expected * 10_000) / 10_000, sizeForTarget };
}

/** Numbers the rule of thumb would give: one per 20 daily visitors, from visitors seen in the window. */
export function ruleOfThumbSize(visitors: number, windowHours: number): number {
  if (visitors === 0) return 0;
  return Math.ceil((visitors * (24 / windowHours)) / VISITORS_PER_NUMBER_RULE);
}
