import type { OnboardingFacts } from './onboarding.repository.js';
import type { Onboarding, OnboardingStep } from './onboarding.schemas.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Turns the facts into the checklist the home page shows, in the order an admin does it. */
export function buildChecklist(facts: OnboardingFacts): Onboarding {
  const seen = facts.sites.filter((s) => s.lastSessionAt !== null).sort((a, b) => b.lastSessionAt!.getTime() - a.lastSessionAt!.getTime());
  const latest = seen[0];
  const steps: OnboardingStep[] = [
    { id: 'trunk', title: 'Add a SIP trunk', done: facts.trunks > 0, detail: facts.trunks > 0 ? plural(facts.trunks, 'trunk') : null, href: '/trunks' },
    {
      id: 'numbers',
      title: 'Add tracking numbers',
      done: facts.numbers > 0,
      detail: facts.numbers > 0 ? plural(facts.numbers, 'number') : null,
      href: '/numbers',
    },
    {
      id: 'pool_or_source',
      title: 'Make a pool or a source',
      done: facts.pools + facts.sources > 0,
      detail: facts.pools + facts.sources > 0 ? `${plural(facts.pools, 'pool')}, ${plural(facts.sources, 'source')}` : null,
      href: facts.pools === 0 && facts.sources > 0 ? '/sources' : '/numbers',
    },
    {
      id: 'snippet',
      title: 'Install the snippet on your site',
      done: latest !== undefined,
      detail: latest ? `last seen on ${latest.name} at ${latest.lastSessionAt!.toISOString()}` : facts.sites.length > 0 ? 'not seen yet' : null,
      href: '/#snippet',
    },
    { id: 'first_call', title: 'Receive a first call', done: facts.calls > 0, detail: null, href: '/calls' },
    {
      id: 'sink',
      title: 'Connect a CRM or analytics sink',
      done: facts.sinks > 0,
      detail: facts.sinks > 0 ? plural(facts.sinks, 'sink') : null,
      href: '/settings',
    },
  ];
  return {
    done: steps.every((s) => s.done),
    steps,
    sites: facts.sites.map((s) => ({ siteId: s.siteId, name: s.name, siteKey: s.siteKey, lastSessionAt: s.lastSessionAt?.toISOString() ?? null })),
  };
}
