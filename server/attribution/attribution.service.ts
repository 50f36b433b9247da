import type { Db } from '../db/pool.js';
import type { AttributionCandidate, AttributionQuery, AttributionSnapshot, Attributor } from './attribution.types.js';
import * as repo from './attribution.repository.js';
import { type Visit, visitFromSession } from './visit.js';

/** A call this soon after a lease's hold ran out is still probably that visitor's (at least 5 min, or the hold). */
export const graceSeconds = (holdSeconds: number) => Math.max(300, holdSeconds);
const LOOKBACK_SECONDS = 86_400 + 3_600;

/** The visit of a lease's session; a lease of a shared (overflow) number says so on the call. */
const visitOf = (lease: repo.LeaseWithVisit): Visit | null => (lease.visit ? visitFromSession(lease.visit) : null);

const secs = (ms: number) => Math.round(ms / 1000);

/**
 * Ranks sessions that may have caused the call: the more recently the visitor was active
 * (a lease's upper bound is last keep-alive + hold), the likelier. Weights decay over the hold.
 */
function rank(leases: repo.LeaseWithVisit[], at: Date, reasonOf: (l: repo.LeaseWithVisit) => string): AttributionCandidate[] {
  const weighted = leases
    .map((l) => {
      const lastActive = Math.max(l.start.getTime(), l.end.getTime() - l.holdSeconds * 1000);
      const idle = Math.max(0, at.getTime() - lastActive) / 1000;
      return { l, w: Math.exp(-idle / Math.max(60, graceSeconds(l.holdSeconds))) };
    })
    .sort((a, b) => b.w - a.w);
  const total = weighted.reduce((s, x) => s + x.w, 0) || 1;
  return weighted.map(({ l, w }) => ({ sessionId: l.sessionId, likelihood: Math.round((w / total) * 1000) / 1000, reason: reasonOf(l) }));
}

function decideLeases(
  leases: repo.LeaseWithVisit[],
  at: Date,
): Pick<AttributionSnapshot, 'sessionId' | 'confidence' | 'reason' | 'candidates' | 'visit' | 'overflow'> | undefined {
  const t = at.getTime();
  const covering = leases.filter((l) => l.start.getTime() <= t && t < l.end.getTime());
  if (covering.length === 1 && !covering[0]!.shared) {
    const l = covering[0]!;
    return {
      sessionId: l.sessionId,
      confidence: 'exact',
      reason: `the number was leased to this session at the call time (held until ${l.end.toISOString()})`,
      candidates: [{ sessionId: l.sessionId, likelihood: 1, reason: 'lease covers the call time' }],
      visit: visitOf(l),
      overflow: false,
    };
  }
  if (covering.length > 0) {
    const candidates = rank(
      covering,
      at,
      (l) =>
        `${l.shared ? 'shared' : 'exclusive'} lease covering the call, last active ${secs(t - Math.max(l.start.getTime(), l.end.getTime() - l.holdSeconds * 1000))} s before`,
    );
    const top = covering.find((l) => l.sessionId === candidates[0]!.sessionId)!;
    return {
      sessionId: top.sessionId,
      confidence: 'ambiguous',
      candidates,
      visit: visitOf(top),
      overflow: covering.some((l) => l.shared),
      reason: `the number was shared by ${covering.length} sessions at the call time (pool exhausted); most recently active first`,
    };
  }
  const recent = leases.filter((l) => l.end.getTime() <= t && t - l.end.getTime() <= graceSeconds(l.holdSeconds) * 1000);
  if (recent.length > 0) {
    const candidates = rank(recent, at, (l) => `hold ended ${secs(t - l.end.getTime())} s before the call`);
    const top = recent.find((l) => l.sessionId === candidates[0]!.sessionId)!;
    return {
      sessionId: top.sessionId,
      confidence: 'ambiguous',
      candidates,
      visit: visitOf(top),
      overflow: top.shared,
      reason: `no lease covered the call; ${recent.length} lease(s) ended shortly before it (late caller), most likely first`,
    };
  }
  return undefined;
}

const utcDate = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Resolves (number, instant, caller) from Postgres alone, so it works while Redis is down:
 * static source ownership (with its dates and quarantine), then the lease history, then the
 * caller's earlier calls. Three queries run in parallel.
 *
 * @example
 *   const attributor = createAttributor({ db });
 *   const snap = await attributor.attribute({ accountId, number: '+74951234567', at: new Date(), caller: '+79161234567' });
 */
export function createAttributor({ db }: { db: Db; redis?: unknown }): Attributor & {
  attributeWithCalls(q: AttributionQuery): Promise<AttributionSnapshot & { priorCallIds: string[] }>;
} {
  async function attributeWithCalls(q: AttributionQuery): Promise<AttributionSnapshot & { priorCallIds: string[] }> {
    const [owner, leases, prior] = await Promise.all([
      repo.findOwnership(db, q.accountId, q.number, q.at),
      repo.findLeasesAround(db, q.accountId, q.number, q.at, LOOKBACK_SECONDS),
      q.caller ? repo.findPriorCalls(db, q.accountId, q.caller, q.at) : Promise.resolve({ total: 0, ids: [] }),
    ]);
    const caller = { firstTime: prior.total === 0, priorCalls: prior.total, priorCallIds: prior.ids, previousCallId: prior.ids[0] ?? null };
    const none = (reason: string): AttributionSnapshot & { priorCallIds: string[] } => ({
      sessionId: null,
      sourceId: null,
      confidence: 'none',
      reason,
      candidates: [],
      visit: null,
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
          reason: owned ? `number owned by ${label}` : `number released from ${label} on ${src.ownedUntil!.toISOString()}; late call during its quarantine`,
          visit: null,
          staticSource: { id: src.id, name: src.name, channel: src.channel, medium: src.medium ?? src.kind, campaign: src.campaign },
          overflow: false,
          ...caller,
        };
      }
    }
    const decided = decideLeases(leases, q.at);
    if (decided) return { ...decided, sourceId: null, staticSource: null, ...caller };
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
