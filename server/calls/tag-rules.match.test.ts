import { describe, expect, it } from 'vitest';
import { type CallFacts, ruleMatches } from './tag-rules.match.js';
import { TagRuleConditions } from './tag-rules.schemas.js';

const facts = (o: Partial<CallFacts> = {}): CallFacts => ({
  talkSeconds: 0,
  disposition: 'answered',
  firstTime: null,
  ivrDigits: null,
  sourceId: null,
  sourceNames: [],
  campaigns: [],
  ...o,
});
const SRC = '3b0f0a52-1111-4222-8333-444455556666';

describe(ruleMatches.name, () => {
  const cases: Array<[string, TagRuleConditions, Partial<CallFacts>, boolean]> = [
    ['talk over: strictly more', { talkSecondsOver: 60 }, { talkSeconds: 61 }, true],
    ['talk over: equal is not over', { talkSecondsOver: 60 }, { talkSeconds: 60 }, false],
    ['missed: busy is missed', { missed: true }, { disposition: 'busy' }, true],
    ['missed: voicemail is missed', { missed: true }, { disposition: 'voicemail' }, true],
    ['missed: answered is not', { missed: true }, { disposition: 'answered' }, false],
    ['missed false: answered', { missed: false }, { disposition: 'answered' }, true],
    ['first time', { firstTime: true }, { firstTime: true }, true],
    ['first time unknown is not first time', { firstTime: true }, { firstTime: null }, false],
    ['repeat caller', { firstTime: false }, { firstTime: false }, true],
    ['source id', { sourceId: SRC }, { sourceId: SRC }, true],
    ['source id other', { sourceId: SRC }, { sourceId: null }, false],
    ['source by name, case-insensitive', { source: 'Google' }, { sourceNames: ['google'] }, true],
    ['source by id through "source"', { source: SRC }, { sourceId: SRC.toUpperCase() }, true],
    ['source name mismatch', { source: 'google' }, { sourceNames: ['yandex'] }, false],
    ['campaign', { campaign: 'spring' }, { campaigns: ['brand', 'Spring'] }, true],
    ['campaign mismatch', { campaign: 'spring' }, { campaigns: [] }, false],
    ['ivr digit pressed', { ivrDigit: '2' }, { ivrDigits: '12' }, true],
    ['ivr digit not pressed', { ivrDigit: '3' }, { ivrDigits: '12' }, false],
    ['ivr without digits', { ivrDigit: '1' }, { ivrDigits: null }, false],
    ['disposition', { disposition: 'no-answer' }, { disposition: 'no-answer' }, true],
    ['all conditions must hold', { talkSecondsOver: 30, firstTime: true }, { talkSeconds: 31, firstTime: false }, false],
    ['all conditions hold', { talkSecondsOver: 30, firstTime: true, campaign: 'x' }, { talkSeconds: 31, firstTime: true, campaigns: ['x'] }, true],
  ];
  for (const [name, c, f, want] of cases) it(name, () => expect(ruleMatches(c, facts(f))).toBe(want));
});

describe('TagRuleConditions', () => {
  it('rejects no conditions, unknown kinds and bad values', () => {
    for (const bad of [{}, { talkSecondsOver: -1 }, { colour: 'red' }, { ivrDigit: 'x' }, { disposition: 'lost' }, { sourceId: 'nope' }]) {
      expect(TagRuleConditions.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(TagRuleConditions.parse({ missed: true })).toEqual({ missed: true });
  });
});
