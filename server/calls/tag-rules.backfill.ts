import type { Db } from '../db/pool.js';
import { listCallViews } from './call-view.js';
import { ruleMatches } from './tag-rules.match.js';
import { addTagToCalls } from './tag-rules.repository.js';
import type { TagRuleConditions } from './tag-rules.schemas.js';
import { callFacts } from './tag-rules.sink.js';

const PAGE = 1000;

/**
 * Applies one rule to calls already stored in [from, to): new rules are usually written after the
 * calls they are meant for. Pages by keyset so memory stays flat; stops after `maxCalls`.
 * Does not emit callModified: a backfill over thousands of calls must not flood the CRMs.
 */
export async function backfillTagRule(
  db: Db,
  accountId: string,
  rule: { id: string; tag: string; conditions: TagRuleConditions },
  period: { from: string; to: string },
  maxCalls: number,
): Promise<{ checked: number; tagged: number; complete: boolean }> {
  let checked = 0;
  let tagged = 0;
  let cursor: string | undefined;
  do {
    const page = await listCallViews(db, accountId, { from: period.from, to: period.to, limit: PAGE, ...(cursor ? { cursor } : {}) });
    if (page === 'bad-cursor') break;
    checked += page.items.length;
    const matching = page.items.filter((r) => ruleMatches(rule.conditions, callFacts(r))).map((r) => r.id);
    if (matching.length > 0) tagged += await addTagToCalls(db, matching, rule.tag, rule.id);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && checked < maxCalls);
  return { checked, tagged, complete: cursor === undefined };
}
