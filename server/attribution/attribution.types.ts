import type { Visit } from './visit.js';

/** How sure we are about who caused a call (DESIGN: "Numbers, sessions and attribution"). */
export type Confidence = 'exact' | 'ambiguous' | 'static' | 'none';

export interface AttributionCandidate {
  /** The candidate visitor's latest page view at the call. */
  sessionId: string;
  visitorId?: string | null;
  /** 0..1, candidates ordered most likely first. */
  likelihood: number;
  reason: string;
}

/** Taken once, when the INVITE arrives, and stored with the call record. */
export interface AttributionSnapshot {
  sessionId: string | null;
  sourceId: string | null;
  confidence: Confidence;
  reason: string;
  candidates: AttributionCandidate[];
  /** How likely the attributed visitor (or source) is the caller: the top candidate's likelihood; 1 for exact and static, 0 for none. */
  likelihood: number;
  /** The website visit of the session the call is attributed to (null for static sources and none). */
  visit: Visit | null;
  /** The visitor's visits up to the call, first touch … last touch (the last one is `visit`). */
  visitChain: Visit[];
  /** The static source that owns the number, when confidence is static. */
  staticSource: StaticSourceRef | null;
  /** The number was shared because the pool was exhausted. */
  overflow: boolean;
  /** The caller's latest earlier call, if any. */
  previousCallId: string | null;
  firstTime: boolean;
  /** Earlier calls of the caller, counted up to PRIOR_CALLS_COUNTED (that number means as many or more). */
  priorCalls: number;
}

export interface StaticSourceRef {
  id: string;
  name: string;
  channel: string;
  medium: string | null;
  campaign: string | null;
}

export interface AttributionQuery {
  accountId: string;
  /** E.164 tracking number that was dialled. */
  number: string;
  at: Date;
  /** Caller id as received (E.164 when it parses), for repeat-caller linking. */
  caller?: string;
}

/** Implemented by attribution/; called by the call path at INVITE time and by GET /v1/attribution. */
export interface Attributor {
  attribute(query: AttributionQuery): Promise<AttributionSnapshot>;
}
