import { z } from 'zod';
import { Disposition } from './calls.schemas.js';

/**
 * What a finished call must show for a rule to tag it; every condition given must hold (AND).
 * Make two rules with the same tag for OR.
 */
export const TagRuleConditions = z
  .strictObject({
    talkSecondsOver: z.number().int().min(0).max(86_400).optional().meta({ description: 'talk time strictly over N seconds' }),
    missed: z.boolean().optional().meta({ description: 'true: nobody answered (any disposition but answered); false: answered' }),
    firstTime: z.boolean().optional().meta({ description: 'true: first call from this caller id; false: a repeat caller' }),
    sourceId: z.uuid().optional().meta({ description: 'the static source that owns the dialled number' }),
    source: z.string().trim().min(1).max(200).optional().meta({ description: 'static source id or name, or the visit source / utm_source' }),
    campaign: z.string().trim().min(1).max(200).optional().meta({ description: 'static source campaign, or the visit campaign / utm_campaign' }),
    ivrDigit: z
      .string()
      .regex(/^[0-9*#]{1,16}$/, 'DTMF digits 0-9, * and #')
      .optional()
      .meta({ description: 'the caller pressed this digit (or this sequence of digits) in an IVR menu' }),
    disposition: Disposition.optional(),
  })
  .refine((c) => Object.values(c).some((v) => v !== undefined), { message: 'give at least one condition' });
export type TagRuleConditions = z.infer<typeof TagRuleConditions>;

const Tag = z.string().trim().min(1).max(64);

export const CreateTagRuleBody = z.object({
  name: z.string().trim().min(1).max(200).optional().meta({ description: 'defaults to the tag' }),
  tag: Tag,
  conditions: TagRuleConditions,
  enabled: z.boolean().default(true),
});
export type CreateTagRuleBody = z.infer<typeof CreateTagRuleBody>;

export const UpdateTagRuleBody = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  tag: Tag.optional(),
  conditions: TagRuleConditions.optional(),
  enabled: z.boolean().optional(),
});
export type UpdateTagRuleBody = z.infer<typeof UpdateTagRuleBody>;

export const TagRule = z.object({
  id: z.uuid(),
  name: z.string(),
  tag: z.string(),
  conditions: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TagRule = z.infer<typeof TagRule>;

export const BackfillBody = z.object({
  from: z.iso.datetime({ offset: true }).meta({ description: 'calls started at or after' }),
  to: z.iso.datetime({ offset: true }).meta({ description: 'calls started before' }),
});
export const BackfillResult = z.object({
  checked: z.number().int(),
  tagged: z.number().int().meta({ description: 'calls that got the tag now (others had it already or did not match)' }),
  complete: z.boolean().meta({ description: 'false when the per-request limit stopped it: call again with a later `to`' }),
});
