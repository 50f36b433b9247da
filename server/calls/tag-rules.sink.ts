import type { Queryable } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { CallEventSink, CallRef } from './call-events.js';
import { type CallView, findCallView } from './call-view.js';
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

/**
 * Applies the account's enabled rules to one call and returns the tags added.
 * A stored rule that no longer parses (written by an older version) is skipped, not fatal.
 */
export async function applyTagRules(db: Queryable, call: CallRef, logger?: Logger): Promise<string[]> {
  const view = await findCallView(db, call.accountId, call.callId);
  if (!view) return [];
  const facts = callFacts(view);
  const added: string[] = [];
  for (const rule of await listEnabledTagRules(db, call.accountId)) {
    const conditions = TagRuleConditions.safeParse(rule.conditions);
    if (!conditions.success) {
      logger?.warn({ ruleId: rule.id, type: 'tag_rule_invalid' }, 'tag rule conditions do not parse; rule skipped');
      continue;
    }
    if (ruleMatches(conditions.data, facts) && (await addTags(db, call.callId, [rule.tag], { ruleId: rule.id })) > 0) added.push(rule.tag);
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
  return {
    callStarted: () => {},
    async callCompleted(trx, call) {
      await trx.query('SAVEPOINT tag_rules');
      try {
        const tags = await applyTagRules(trx, call, logger);
        await trx.query('RELEASE SAVEPOINT tag_rules');
        if (tags.length > 0) logger.debug({ callId: call.callId, tags, type: 'tag_rules_applied' }, 'tag rules tagged the call');
      } catch (err) {
        await trx.query('ROLLBACK TO SAVEPOINT tag_rules');
        logger.error({ err, callId: call.callId, type: 'tag_rules_failed' }, 'tag rules failed; call stored without rule tags');
      }
    },
    recordingReady: async () => {},
    callModified: async () => {},
  };
}
