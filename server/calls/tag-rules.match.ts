import type { TagRuleConditions } from './tag-rules.schemas.js';

/** The facts of a finished call that rules look at. */
export interface CallFacts {
  talkSeconds: number;
  disposition: string | null;
  firstTime: boolean | null;
  ivrDigits: string | null;
  sourceId: string | null;
  /** Every name the call's source goes by: static source name, visit source, utm_source. */
  sourceNames: string[];
  /** Every campaign name: static source campaign, visit campaign, utm_campaign. */
  campaigns: string[];
}

const same = (a: string, b: string) => a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;

/**
 * True when the call meets every condition. Unknown facts never match: a call whose
 * caller history is unknown (firstTime null) is neither first-time nor repeat.
 */
export function ruleMatches(c: TagRuleConditions, f: CallFacts): boolean {
  if (c.talkSecondsOver !== undefined && !(f.talkSeconds > c.talkSecondsOver)) return false;
  if (c.missed !== undefined && (f.disposition !== 'answered') !== c.missed) return false;
  if (c.firstTime !== undefined && f.firstTime !== c.firstTime) return false;
  if (c.disposition !== undefined && f.disposition !== c.disposition) return false;
  if (c.sourceId !== undefined && f.sourceId?.toLowerCase() !== c.sourceId.toLowerCase()) return false;
  if (c.source !== undefined) {
    const want = c.source;
    if (!(f.sourceId?.toLowerCase() === want.toLowerCase() || f.sourceNames.some((n) => same(n, want)))) return false;
  }
  if (c.campaign !== undefined && !f.campaigns.some((n) => same(n, c.campaign!))) return false;
  if (c.ivrDigit !== undefined && !(f.ivrDigits ?? '').includes(c.ivrDigit)) return false;
  return true;
}
