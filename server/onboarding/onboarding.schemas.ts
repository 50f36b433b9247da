import { z } from 'zod';

export const OnboardingStepId = z.enum(['trunk', 'numbers', 'pool_or_source', 'snippet', 'first_call', 'sink']);
export type OnboardingStepId = z.infer<typeof OnboardingStepId>;

export const OnboardingStep = z.object({
  id: OnboardingStepId,
  title: z.string(),
  done: z.boolean(),
  detail: z.string().nullable().meta({ description: 'what was found, e.g. "3 numbers" or when the snippet last opened a session' }),
  href: z.string().meta({ description: 'the UI page where this step is done' }),
});
export type OnboardingStep = z.infer<typeof OnboardingStep>;

export const SnippetSeen = z.object({
  siteId: z.uuid(),
  name: z.string(),
  siteKey: z.string().meta({ description: 'goes in the snippet tag as data-site-key' }),
  lastSessionAt: z.string().nullable().meta({ description: 'the newest visitor session the snippet opened on this site (null: never seen)' }),
});

export const Onboarding = z.object({
  done: z.boolean(),
  steps: z.array(OnboardingStep),
  sites: z.array(SnippetSeen),
});
export type Onboarding = z.infer<typeof Onboarding>;
