import { z } from 'zod';

export const BlockAction = z.enum(['reject', 'goodbye']).meta({ description: 'reject: 403 to the carrier; goodbye: answer, play a polite goodbye, hang up' });

export const CreateBlockBody = z.object({
  pattern: z
    .string()
    .trim()
    .regex(/^(\+[0-9]{1,15}\*?|anonymous)$/, 'an E.164 number (+74951234567), a prefix ending in * (+7800*), or "anonymous"'),
  action: BlockAction.default('reject'),
  note: z.string().trim().max(500).optional(),
});
export type CreateBlockBody = z.infer<typeof CreateBlockBody>;

export const CallerBlock = z.object({
  id: z.uuid(),
  pattern: z.string(),
  action: BlockAction,
  note: z.string().nullable(),
  createdAt: z.string(),
});
export type CallerBlock = z.infer<typeof CallerBlock>;

/** The most calls in 10 minutes a policy may ask about (the screen keeps no more per caller). */
export const MAX_BURST_CALLS = 1000;

export const SpamPolicy = z.object({
  gate: z.boolean().meta({ description: 'flagged callers must press 1 before an agent is rung' }),
  burstCalls: z.number().int().min(0).max(MAX_BURST_CALLS).meta({ description: 'flag a caller with this many calls in 10 minutes (0: off)' }),
  shortCallStreak: z.number().int().min(0).max(100).meta({ description: 'flag a caller whose last N calls all lasted under 5 s (0: off)' }),
  flagAnonymous: z.boolean().meta({ description: 'flag anonymous callers and caller ids that are no phone number' }),
});
export type SpamPolicy = z.infer<typeof SpamPolicy>;

/**
 * Nothing is flagged until the account asks for it: a flagged call leaves leads and reports, and a
 * customer who calls back five times while the line is busy, or an office testing its numbers, is
 * exactly who must not vanish from them unasked. Block lists work from the start.
 */
export const DEFAULT_SPAM_POLICY: SpamPolicy = { gate: false, burstCalls: 0, shortCallStreak: 0, flagAnonymous: false };
