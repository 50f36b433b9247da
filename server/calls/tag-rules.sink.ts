import type { Queryable } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { CallEventSink, CallRef } from './call-events.js';
import { addTags, type CallRow, findCallRow } from './calls.repository.js';
import { type CallFacts, ruleMatches } from './tag-rules.match.js';
import { listEnabledTagRules } from './tag-rules.repository.js';
import { TagRuleConditions } from './tag-rules.schemas.js';

const text = (v: unknown): string[] => (typeof v === 'string' && v.length > 0 ? [v] : []);

export function callFacts(r: CallRow): CallFacts {
  const a = r.attribution ?? {};
  return {
    talkSeconds: r.talk_seconds,
    disposition: r.disposition,
    firstTime: r.first_time,
    ivrDigits: r.ivr_digits,
    sourceId: r.source_id,
    sourceNames: [...text(r.source_name), ...text(a.source), ...text(a.utm_source)],
    campaigns: [...text(r.source_campaign), ...text(a.campaign), ...text(a.utm_campaign)],
  };
}

/**
 * Applies the account's enabled rules to one call and returns the tags added.
 * A stored rule that no longer parses (written by an older version) is skipped, not fatal.
 */
export async function applyTagRules(db: Queryable, call: CallRef, logger?: Logger): Promise<string[]> {
  const row = await findCallRow(db, call.accountId, call.callId);
  if (!row) return [];
  const facts = callFacts(row);
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
