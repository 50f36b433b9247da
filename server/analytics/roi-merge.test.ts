import { describe, expect, it } from 'vitest';
import { mergeRoiParts, parseDecimal, type RoiPartRow, roundDecimal } from './roi-merge.js';

const part = (keys: [string | null, string | null, string | null, string | null], values: Partial<RoiPartRow>): RoiPartRow => ({
  g_source: keys[0],
  g_medium: keys[1],
  g_campaign: keys[2],
  g_keyword: keys[3],
  is_static: false,
  visits: '0',
  calls: null,
  forms: null,
  leads: null,
  qualified: null,
  won: null,
  revenue: '0',
  cost: '0',
  ltv: null,
  ...values,
});

describe('roundDecimal', () => {
  it('rounds half away from zero, like Postgres round(numeric, n)', () => {
    expect(roundDecimal(parseDecimal('0.33335'), 4)).toBe(0.3334);
    expect(roundDecimal(parseDecimal('-0.33335'), 4)).toBe(-0.3334);
    expect(roundDecimal(parseDecimal('0.33334999'), 4)).toBe(0.3333);
    expect(roundDecimal(parseDecimal('12'), 4)).toBe(12);
  });

  it('refuses what is not a plain decimal', () => {
    expect(() => parseDecimal('1e5')).toThrow(/not a decimal/);
  });
});

describe('mergeRoiParts', () => {
  it('adds the parts of one channel, fractions exactly, and keeps the largest LTV', () => {
    const third = '0.33333333333333333333';
    const rows = mergeRoiParts([
      part(['google', 'cpc', 'c1', null], { calls: third, leads: third, revenue: '100', ltv: '500' }),
      part(['google', 'cpc', 'c1', null], { calls: third, won: '1' }),
      part(['google', 'cpc', 'c1', null], { calls: third, ltv: '900' }),
      part(['google', 'cpc', 'c1', null], { visits: '7', cost: '250' }),
    ]);
    expect(rows).toHaveLength(1);
    // Three thirds are one call, not 0.9999 or 1.0000000000000002.
    expect(rows[0]).toMatchObject({ calls: 1, leads: 0.3333, won: 1, visits: 7, cost: 250, revenue: 100, ltv: 900 });
  });

  it('keeps a channel static when any part says so, and zero where no part counted', () => {
    const [row] = mergeRoiParts([
      part(['Flyer', 'offline', null, null], { is_static: true, cost: '1000' }),
      part(['Flyer', 'offline', null, null], { calls: '2' }),
    ]);
    expect(row).toMatchObject({ is_static: true, calls: 2, forms: 0, qualified: 0, ltv: null });
  });

  it('orders by source, medium, campaign, keyword with nulls last, by code point', () => {
    const rows = mergeRoiParts([
      part([null, null, null, null], { calls: '1' }),
      part(['yandex', 'cpc', null, null], { calls: '1' }),
      part(['google', 'cpc', 'b', null], { calls: '1' }),
      part(['google', 'cpc', 'b', 'x'], { calls: '1' }),
      part(['google', 'cpc', 'a', 'z'], { calls: '1' }),
      part(['Google', 'cpc', 'a', 'z'], { calls: '1' }),
      part(['google', 'cpc', '\u{1F600}', null], { calls: '1' }),
      part(['google', 'cpc', '\uFF21', null], { calls: '1' }),
    ]);
    expect(rows.map((r) => [r.g_source, r.g_campaign, r.g_keyword])).toEqual([
      ['Google', 'a', 'z'],
      ['google', 'a', 'z'],
      ['google', 'b', 'x'],
      ['google', 'b', null],
      // U+FF21 before U+1F600 by code point (UTF-16 units would put the emoji's surrogates first).
      ['google', '\uFF21', null],
      ['google', '\u{1F600}', null],
      ['yandex', null, null],
      [null, null, null],
    ]);
  });
});
