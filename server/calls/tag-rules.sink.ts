import type { DbClient, Queryable } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { CallEventSink, CallRef } from './call-events.js';
import { type CallView, findCallViews } from './call-view.js';
import { addTags } from './calls.repository.js';
import { type CallFacts, ruleMatches } from './tag-rules.match.js';
import { listEnabledTagRules } from './tag-rules.repository.js';
import { TagRuleConditions } from './tag-rules.schemas.js';

const named = (...names: Array<string | null | undefined>): string[] => names.filter((n): n is string => typeof n === 'string' && n.length > 0);

export function callFacts(call: CallView): CallFacts {
  return {
    talkSeconds: call.talkSeconds,
    disposition: call.disposition,
    firstTime: call.firstTime,
    ivrDigits: call.ivrDigits,
    sourceId: call.staticSource?.id ?? null,
    sourceNames: named(call.staticSource?.name, call.visit?.source, call.visit?.utmSource),
    campaigns: named(call.staticSource?.campaign, call.visit?.campaign, call.visit?.utmCampaign),
  };
}

type RulesByAccount = Awaited<ReturnType<typeof listEnabledTagRules>>;

/**
 * Applies each call's account's enabled rules (`rulesOf`, from listEnabledTagRules) to it and
 * returns the tags added, by call id. A stored rule that no longer parses (written by an older
 * version) is skipped, not fatal.
 */
export async function applyTagRules(db: Queryable, calls: readonly CallRef[], rulesOf: RulesByAccount, logger?: Logger): Promise<Map<string, string[]>> {
  const added = new Map<string, string[]>();
  const ruled = calls.filter((c) => rulesOf.has(c.accountId));
  if (ruled.length === 0) return added;
  const views = await findCallViews(db, ruled);
  for (const call of ruled) {
    const view = views.get(call.callId);
    if (!view) continue;
    const facts = callFacts(view);
    for (const rule of rulesOf.get(call.accountId) ?? []) {
      const conditions = TagRuleConditions.safeParse(rule.conditions);
      if (!conditions.success) {
        logger?.warn({ ruleId: rule.id, type: 'tag_rule_invalid' }, 'tag rule conditions do not parse; rule skipped');
        continue;
      }
      if (!ruleMatches(conditions.data, facts) || (await addTags(db, call.callId, [rule.tag], { ruleId: rule.id })) === 0) continue;
      added.set(call.callId, [...(added.get(call.callId) ?? []), rule.tag]);
    }
  }
  return added;
}

/**
 * Tag rules as a CallEventSink: `callCompleted` tags the call inside the call-record transaction,
 * so the call and its rule tags commit together and a lead sink combined *after* this one sees the
 * tags. A failing rule must not cost the call record: the work runs under a savepoint and is
 * rolled back alone.
 *
 * @example
 *   const events = combineCallEventSinks([createTagRuleSink({ logger }), leads.eventSink]);
 *   const writer = createCallRecordWriter({ db, events, … });
 */
export function createTagRuleSink({ logger }: { logger: Logger }): CallEventSink {
  async function tagCalls(trx: DbClient, calls: readonly CallRef[]): Promise<void> {
    // Most accounts have no rules: then the calls are not even read, and no savepoint is needed.
    const rulesOf = await listEnabledTagRules(
      trx,
      calls.map((c) => c.accountId),
    );
    if (!calls.some((c) => rulesOf.has(c.accountId))) return;
    await trx.query('SAVEPOINT tag_rules');
    try {
      const tags = await applyTagRules(trx, calls, rulesOf, logger);
      await trx.query('RELEASE SAVEPOINT tag_rules');
      for (const [callId, added] of tags) logger.debug({ callId, tags: added, type: 'tag_rules_applied' }, 'tag rules tagged the call');
    } catch (err) {
      await trx.query('ROLLBACK TO SAVEPOINT tag_rules');
      logger.error({ err, callIds: calls.map((c) => c.callId), type: 'tag_rules_failed' }, 'tag rules failed; calls stored without rule tags');
    }
  }
  return {
    callStarted: () => {},
    callCompleted: (trx, call) => tagCalls(trx, [call]),
    callsCompleted: tagCalls,
    recordingReady: async () => {},
    callModified: async () => {},
  };
}
