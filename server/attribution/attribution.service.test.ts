import { describe, expect, it } from 'vitest';
import type { LeaseWithVisit } from './attribution.repository.js';
import { decideLeases, rankCandidates } from './attribution.service.js';

const at = new Date('2026-11-20T12:00:00.000Z');
const ago = (seconds: number) => new Date(at.getTime() - seconds * 1000);
let seq = 0;
function lease(startAgo: number, endAgo: number, over: Partial<LeaseWithVisit> = {}): LeaseWithVisit {
  seq++;
  return {
    sessionId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    visitorId: `v${seq}`,
    poolId: 'p',
    holdSeconds: 60,
    shared: false,
    reusedInCooldown: false,
    start: ago(startAgo),
    end: ago(endAgo),
    visit: null,
    ...over,
  };
}

describe(rankCandidates.name, () => {
  it('ranks the most recently active holder first, likelihoods summing to about 1', () => {
    const idle = lease(900, 300); // last active 360 s ago (end - hold)
    const active = lease(200, -55); // last active 5 s ago
    const ranked = rankCandidates([idle, active], at);
    expect(ranked.map((r) => r.lease)).toEqual([active, idle]);
    expect(ranked[0]!.likelihood).toBeGreaterThan(ranked[1]!.likelihood);
    expect(ranked.reduce((sum, r) => sum + r.likelihood, 0)).toBeCloseTo(1, 2);
  });

  it('between equally active holders prefers the newer lease', () => {
    const older = lease(600, -30);
    const newer = lease(100, -30);
    expect(rankCandidates([older, newer], at)[0]!.lease).toBe(newer);
  });
});

describe(decideLeases.name, () => {
  it('is exact for one exclusive lease covering the call', () => {
    const only = lease(120, -30);
    expect(decideLeases([only], at, 300)).toMatchObject({ confidence: 'exact', ranked: [{ lease: only, likelihood: 1 }] });
  });

  it('is ambiguous for a shared number, and for a number reused in cool-down while the earlier visitor may still call', () => {
    const a = lease(120, -30, { shared: true });
    const b = lease(60, -40, { shared: true });
    expect(decideLeases([a, b], at, 300)?.confidence).toBe('ambiguous');
    const earlier = lease(400, 100);
    const reused = lease(90, -30, { reusedInCooldown: true });
    const decision = decideLeases([reused, earlier], at, 300)!;
    expect(decision.confidence).toBe('ambiguous');
    expect(decision.ranked.map((r) => r.lease)).toEqual(expect.arrayContaining([reused, earlier]));
  });

  it('ranks late callers after a lease ended within the window, and finds nothing beyond it', () => {
    const ended = lease(600, 120);
    expect(decideLeases([ended], at, 300)).toMatchObject({ confidence: 'ambiguous', ranked: [{ lease: ended }] });
    expect(decideLeases([lease(5000, 4000)], at, 300)).toBeUndefined();
  });
});
