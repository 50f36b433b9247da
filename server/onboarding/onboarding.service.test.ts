import { describe, expect, it } from 'vitest';
import type { OnboardingFacts } from './onboarding.repository.js';
import { buildChecklist } from './onboarding.service.js';

const nothing: OnboardingFacts = { trunks: 0, numbers: 0, pools: 0, sources: 0, calls: 0, sinks: 0, sites: [] };

describe(buildChecklist.name, () => {
  it('a fresh install has every step to do, in the order an admin does them', () => {
    const list = buildChecklist(nothing);
    expect(list.done).toBe(false);
    expect(list.steps.map((step) => [step.id, step.done])).toEqual([
      ['trunk', false],
      ['numbers', false],
      ['pool_or_source', false],
      ['snippet', false],
      ['first_call', false],
      ['sink', false],
    ]);
  });

  it('the snippet step names the site seen most recently; a source alone links to Sources', () => {
    const list = buildChecklist({
      ...nothing,
      sources: 2,
      sites: [
        { siteId: '00000000-0000-4000-8000-000000000001', name: 'Old', siteKey: 'site_a', lastSessionAt: new Date('2026-01-01T00:00:00Z') },
        { siteId: '00000000-0000-4000-8000-000000000002', name: 'Shop', siteKey: 'site_b', lastSessionAt: new Date('2026-02-01T10:00:00Z') },
        { siteId: '00000000-0000-4000-8000-000000000003', name: 'New', siteKey: 'site_c', lastSessionAt: null },
      ],
    });
    const step = (id: string) => list.steps.find((candidate) => candidate.id === id)!;
    expect(step('snippet')).toMatchObject({ done: true, detail: 'last seen on Shop at 2026-02-01T10:00:00.000Z' });
    expect(step('pool_or_source')).toMatchObject({ done: true, detail: '0 pools, 2 sources', href: '/sources' });
    expect(list.sites.map((site) => site.lastSessionAt)).toEqual(['2026-01-01T00:00:00.000Z', '2026-02-01T10:00:00.000Z', null]);
  });

  it('is done when every step is', () => {
    const list = buildChecklist({
      trunks: 1,
      numbers: 5,
      pools: 1,
      sources: 0,
      calls: 1,
      sinks: 1,
      sites: [{ siteId: '00000000-0000-4000-8000-000000000001', name: 'Shop', siteKey: 'k', lastSessionAt: new Date() }],
    });
    expect(list.done).toBe(true);
  });
});
