import type { Db } from '../db/pool.js';
import type { RecentSessions } from '../dni/recent-sessions.js';
import { effectiveCooldownSeconds, type LeaseService } from '../numbers/leases.service.js';
import * as repo from './attribution.repository.js';
import type { AttributionQuery, AttributionSnapshot, Attributor } from './attribution.types.js';
import { type Visit, visitChain, visitFromSession } from './visit.js';

/** A call this soon after a lease's hold ran out is still probably that visitor's (at least 5 min, or the hold). */
export const graceSeconds = (holdSeconds: number) => Math.max(300, holdSeconds);
const LOOKBACK_SECONDS = 86_400 + 3_600;
/** Page views read per visitor for the visit chain (internal ones are dropped, so more than the chain keeps). */
const PAGE_VIEWS_PER_VISITOR = 60;

const secs = (ms: number) => Math.round(ms / 1000);
const lastActiveOf = (l: repo.LeaseWithVisit) => Math.max(l.start.getTime(), l.end.getTime() - l.holdSeconds * 1000);

/**
 * Ranks leases that may have caused the call: the more recently the holder was active (a
 * lease's upper bound is last activity + hold), the likelier; weights decay over the grace
 * period. Between equally active holders the more recent lease wins (it is the one on screen).
 */
export function rankCandidates(leases: repo.LeaseWithVisit[], at: Date): Array<{ lease: repo.LeaseWithVisit; likelihood: number }> {
  const weighted = leases
    .map((lease) => {
      const idle = Math.max(0, at.getTime() - lastActiveOf(lease)) / 1000;
      return { lease, weight: Math.exp(-idle / Math.max(60, graceSeconds(lease.holdSeconds))) };
    })
    .sort((a, b) => b.weight - a.weight || b.lease.start.getTime() - a.lease.start.getTime());
  const total = weighted.reduce((sum, w) => sum + w.weight, 0) || 1;
  return weighted.map(({ lease, weight }) => ({ lease, likelihood: Math.round((weight / total) * 1000) / 1000 }));
}

type Decision = { confidence: 'exact' | 'ambiguous'; reason: string; ranked: Array<{ lease: repo.LeaseWithVisit; likelihood: number; reason: string }> };

/**
 * Which leases of the number may have caused a call at `at`: one exclusive lease covering the
 * instant is `exact`, unless the number was reused while still cooling down (then the previous
 * holders are candidates too). Shared numbers and late calls after a lease are `ambiguous`.
 */
export function decideLeases(leases: repo.LeaseWithVisit[], at: Date, coolSeconds: number): Decision | undefined {
  const t = at.getTime();
  const idleReason = (l: repo.LeaseWithVisit) => `last active ${secs(t - lastActiveOf(l))} s before the call`;
  const lateWindowMs = (l: repo.LeaseWithVisit) => Math.max(graceSeconds(l.holdSeconds), coolSeconds) * 1000;
  const covering = leases.filter((l) => l.start.getTime() <= t && t < l.end.getTime());
  if (covering.length === 1 && !covering[0]!.shared) {
    const l = covering[0]!;
    // Earlier holders still within their late-call window: only they make a reused number uncertain.
    const before = l.reusedInCooldown
      ? leases.filter(
          (p) =>
            p !== l &&
            p.end.getTime() <= l.start.getTime() &&
            l.start.getTime() - p.end.getTime() < coolSeconds * 1000 &&
            t - p.end.getTime() <= lateWindowMs(p),
        )
      : [];
    if (before.length === 0)
      return {
        confidence: 'exact',
        reason: `the number was leased to this visitor at the call time (held until ${l.end.toISOString()})`,
        ranked: [{ lease: l, likelihood: 1, reason: 'lease covers the call time' }],
      };
    // Every free number was still cooling down: the previous holders may be calling late.
    return {
      confidence: 'ambiguous',
      reason: `the number was reused while cooling down after ${before.length} earlier visitor(s); most likely first`,
      ranked: rankCandidates([l, ...before], at).map((r) => ({
        ...r,
        reason: r.lease === l ? `lease covers the call (reused in cool-down), ${idleReason(r.lease)}` : `earlier holder, ${idleReason(r.lease)}`,
      })),
    };
  }
  if (covering.length > 0) {
    return {
      confidence: 'ambiguous',
      reason: `the number was shared by ${covering.length} sessions at the call time (pool exhausted); most recently active first`,
      ranked: rankCandidates(covering, at).map((r) => ({
        ...r,
        reason: `${r.lease.shared ? 'shared' : 'exclusive'} lease covering the call, ${idleReason(r.lease)}`,
      })),
    };
  }
  const recent = leases.filter((l) => l.end.getTime() <= t && t - l.end.getTime() <= lateWindowMs(l));
  if (recent.length > 0) {
    return {
      confidence: 'ambiguous',
      reason: `no lease covered the call; ${recent.length} lease(s) ended shortly before it (late caller), most likely first`,
      ranked: rankCandidates(recent, at).map((r) => ({ ...r, reason: `hold ended ${secs(t - r.lease.end.getTime())} s before the call` })),
    };
  }
  return undefined;
}

/** Postgres history and the live lease in Redis, merged: whichever of the two is behind, the result is the same. */
function withLive(leases: repo.LeaseWithVisit[], live: Awaited<ReturnType<LeaseService['live']>>, poolId: string, holdSeconds: number): repo.LeaseWithVisit[] {
  if (!live) return leases;
  const stored = leases.find((l) => l.sessionId === live.leaseSessionId && l.start.getTime() === live.start.getTime());
  if (stored) {
    // A keep-alive Postgres has not seen yet moved the end.
    if (live.expiresAt > stored.end) stored.end = live.expiresAt;
    return leases;
  }
  return [
    {
      sessionId: live.leaseSessionId,
      visitorId: live.holder === live.leaseSessionId ? null : live.holder,
      poolId,
      holdSeconds,
      shared: false,
      reusedInCooldown: live.reusedInCooldown,
      start: live.start,
      end: live.expiresAt,
      visit: null,
    },
    ...leases,
  ];
}

const utcDate = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Resolves (number, instant, caller): static source ownership (with its dates and quarantine),
 * then the lease history in Postgres merged with the live lease in Redis (the history is written
 * behind, ~200 ms), then the caller's earlier calls. A lease belongs to a visitor: the call goes
 * to the visitor's latest page view, with their visit chain. Works on Postgres alone while Redis
 * is down.
 *
 * @example
 *   const attributor = createAttributor({ db, leases });
 *   const snap = await attributor.attribute({ accountId, number: '+74951234567', at: new Date(), caller: '+79161234567' });
 */
export function createAttributor({
  db,
  leases: leaseService,
  recent,
}: {
  db: Db;
  leases?: Pick<LeaseService, 'live'>;
  recent?: Pick<RecentSessions, 'find'>;
}): Attributor & {
  attributeWithCalls(q: AttributionQuery): Promise<AttributionSnapshot & { priorCallIds: string[] }>;
} {
  async function attributeWithCalls(q: AttributionQuery): Promise<AttributionSnapshot & { priorCallIds: string[] }> {
    let liveLatest: { holder: string; sessionId: string } | null = null;
    /**
     * Each candidate lease as a visitor: their latest page view at the call (Redis knows one the
     * write-behind may not have stored yet) and their visit chain, first touch … last touch.
     */
    async function resolveVisitors(ranked: Decision['ranked'], siteId: string | null, at: Date) {
      const visitorIds = ranked.map((r) => r.lease.visitorId).filter((v): v is string => v !== null);
      const byVisitor = siteId ? await repo.findVisitorSessions(db, siteId, visitorIds, at, PAGE_VIEWS_PER_VISITOR) : new Map<string, repo.VisitorSession[]>();
      const seen = new Set<string>();
      const out: Array<{ sessionId: string; visitorId: string | null; likelihood: number; reason: string; chain: Visit[]; fallbackVisit: Visit | null }> = [];
      for (const r of ranked) {
        const visitorId = r.lease.visitorId;
        // Two leases of one visitor (a late call and their new lease) are one candidate.
        const key = visitorId ?? r.lease.sessionId;
        if (seen.has(key)) continue;
        seen.add(key);
        const views = visitorId ? (byVisitor.get(visitorId) ?? []) : [];
        const latestStored = views[0];
        const live = visitorId && liveLatest?.holder === visitorId ? liveLatest.sessionId : null;
        const sessionId = live && !views.some((v) => v.id === live && v !== latestStored) ? live : (latestStored?.id ?? r.lease.sessionId);
        const pageViews = views.length > 0 ? views.map((v) => v.visit).reverse() : r.lease.visit ? [r.lease.visit] : [];
        // The latest page view Redis knows may not be in Postgres yet (written behind): its visit waits in Redis.
        const stored = views.some((v) => v.id === sessionId) || (views.length === 0 && r.lease.visit !== null && sessionId === r.lease.sessionId);
        const pending = stored ? null : await recent?.find(sessionId);
        if (pending) pageViews.push(pending);
        const chain = visitChain(pageViews);
        const last = pageViews.at(-1);
        const fallbackVisit = last ? visitFromSession(last) : null;
        out.push({ sessionId, visitorId, likelihood: r.likelihood, reason: r.reason, chain, fallbackVisit });
      }
      // Merged candidates: likelihoods still add up to 1 over what is shown.
      const total = out.reduce((sum, c) => sum + c.likelihood, 0) || 1;
      for (const c of out) c.likelihood = Math.round((c.likelihood / total) * 1000) / 1000;
      return out;
    }
    const { owner, leases: stored, prior } = await repo.findAttributionFacts(db, q, LOOKBACK_SECONDS);
    const caller = { firstTime: prior.total === 0, priorCalls: prior.total, priorCallIds: prior.ids, previousCallId: prior.ids[0] ?? null };
    const none = (reason: string): AttributionSnapshot & { priorCallIds: string[] } => ({
      sessionId: null,
      sourceId: null,
      confidence: 'none',
      reason,
      candidates: [],
      likelihood: 0,
      visit: null,
      visitChain: [],
      staticSource: null,
      overflow: false,
      ...caller,
    });
    if (!owner) return none(`number ${q.number} is not provisioned`);

    const src = owner.source;
    if (src) {
      const owned = !src.ownedUntil || q.at < src.ownedUntil;
      const inQuarantine = !owned && owner.quarantineUntil !== null && q.at < owner.quarantineUntil && !owner.poolId;
      if (owned || inQuarantine) {
        const day = utcDate(q.at);
        const label = `${src.channel} source "${src.name}"`;
        if ((src.startsOn && day < src.startsOn) || (src.endsOn && day > src.endsOn)) {
          return none(`${label} owns the number but is not active on ${day} (runs ${src.startsOn ?? '…'} to ${src.endsOn ?? '…'})`);
        }
        return {
          sessionId: null,
          sourceId: src.id,
          confidence: 'static',
          candidates: [],
          likelihood: 1,
          reason: owned ? `number owned by ${label}` : `number released from ${label} on ${src.ownedUntil!.toISOString()}; late call during its quarantine`,
          visit: null,
          visitChain: [],
          staticSource: { id: src.id, name: src.name, channel: src.channel, medium: src.medium, campaign: src.campaign },
          overflow: false,
          ...caller,
        };
      }
    }
    let leases = stored;
    if (owner.poolId && leaseService) {
      // Redis trouble only costs the last ~200 ms of history, never the call.
      const live = await leaseService.live(owner.poolId, owner.numberId).catch(() => null);
      if (live && live.start <= q.at && q.at < live.expiresAt) leases = withLive(stored, live, owner.poolId, owner.holdSeconds ?? 0);
      liveLatest = live ? { holder: live.holder, sessionId: live.latestSessionId } : null;
    }
    const coolSeconds = owner.holdSeconds === null ? 0 : effectiveCooldownSeconds({ holdSeconds: owner.holdSeconds, cooldownSeconds: owner.cooldownSeconds });
    const decided = decideLeases(leases, q.at, coolSeconds);
    if (decided) {
      const resolved = await resolveVisitors(decided.ranked, owner.siteId, q.at);
      const top = resolved[0]!;
      return {
        sessionId: top.sessionId,
        confidence: decided.confidence,
        reason: decided.reason,
        candidates: resolved.map((r) => ({ sessionId: r.sessionId, visitorId: r.visitorId, likelihood: r.likelihood, reason: r.reason })),
        likelihood: top.likelihood,
        visit: top.chain.at(-1) ?? top.fallbackVisit,
        visitChain: top.chain,
        overflow: decided.ranked.some((r) => r.lease.shared),
        sourceId: null,
        staticSource: null,
        ...caller,
      };
    }
    return none(owner.poolId ? 'no session held the number at that time or shortly before' : 'the number belongs to no pool or source');
  }

  return {
    attributeWithCalls,
    async attribute(q) {
      const { priorCallIds: _ids, ...snap } = await attributeWithCalls(q);
      return snap;
    },
  };
}
