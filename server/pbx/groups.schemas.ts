import { z } from 'zod';
import { targetKind } from '../dialplans/dialplan.schemas.js';

export const GroupStrategy = z.enum(['simultaneous', 'sequential', 'round-robin', 'longest-idle']);
export type GroupStrategy = z.infer<typeof GroupStrategy>;

const Member = z
  .string()
  .trim()
  .max(256)
  .refine((m) => {
    const kind = targetKind(m);
    return kind !== undefined && kind !== 'group';
  }, 'a member is extension:NNN, tel:+E164 or sip:user@host[:port] (groups do not nest)');

const GroupFields = {
  name: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'letters, digits, "-" and "_" (a dialplan rings it as group:<name>)'),
  strategy: GroupStrategy.default('simultaneous').meta({
    description: 'ring everyone at once, one after another in list order, rotating the first member, or the member idle longest first',
  }),
  ringSeconds: z.number().int().min(1).max(300).default(20).meta({ description: 'per member when ringing in turn, overall when simultaneous' }),
  members: z
    .array(Member)
    .min(1, 'at least one member')
    .max(50)
    .refine((m) => new Set(m).size === m.length, 'members must not repeat'),
};

export const CreateGroupBody = z.object(GroupFields).strict();
export type CreateGroupBody = z.infer<typeof CreateGroupBody>;
export const UpdateGroupBody = z
  .object({
    strategy: GroupFields.strategy.unwrap().optional(),
    ringSeconds: GroupFields.ringSeconds.unwrap().optional(),
    members: GroupFields.members.optional(),
  })
  .strict();
export type UpdateGroupBody = z.infer<typeof UpdateGroupBody>;

export const Group = z.object({
  id: z.uuid(),
  name: z.string(),
  strategy: GroupStrategy,
  ringSeconds: z.number().int(),
  members: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Group = z.infer<typeof Group>;
