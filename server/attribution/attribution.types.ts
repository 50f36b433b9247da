/** How sure we are about who caused a call (DESIGN: "Numbers, sessions and attribution"). */
export type Confidence = 'exact' | 'ambiguous' | 'static' | 'none';

export interface AttributionCandidate {
  sessionId: string;
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
  /** Visit data for the lead: source, medium, campaign, keyword, utm_*, landing page, referrer, click ids, GA/Metrica client ids. */
  visit: Record<string, string | null>;
  firstTime: boolean;
  priorCalls: number;
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
