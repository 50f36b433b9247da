import { z } from 'zod';
import { PromptFile } from '../dialplans/dialplan.schemas.js';

export const QueueStrategy = z.enum(['longest-idle', 'round-robin', 'ring-all']);
export type QueueStrategy = z.infer<typeof QueueStrategy>;

const QueueFields = {
  name: z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'letters, digits, "-" and "_" (a dialplan step says queue: <name>)'),
  strategy: QueueStrategy.default('longest-idle').meta({
    description: 'offer each call to the agent idle longest, to agents in turn, or to every free agent at once',
  }),
  members: z
    .array(
      z
        .string()
        .trim()
        .regex(/^extension:[0-9]{2,8}$/, 'a member is an agent’s extension: extension:NNN'),
    )
    .min(1, 'at least one agent')
    .max(200)
    .refine((m) => new Set(m).size === m.length, 'members must not repeat'),
  ringSeconds: z.number().int().min(5).max(120).default(15).meta({ description: 'how long an agent’s phone rings before the call goes to the next agent' }),
  wrapUpSeconds: z.number().int().min(0).max(600).default(10).meta({ description: 'after a call, the agent gets no new call for this long' }),
  maxWaitSeconds: z
    .number()
    .int()
    .min(5)
    .max(7200)
    .default(300)
    .meta({ description: 'a caller who waits this long continues with the next step (voicemail, a group)' }),
  announceSeconds: z
    .number()
    .int()
    .min(0)
    .max(600)
    .default(30)
    .meta({ description: 'how often callers hear their position and expected wait (0: never; always once on entry unless 0)' }),
  serviceLevelSeconds: z.number().int().min(1).max(600).default(20).meta({ description: 'answered within this many seconds counts toward the service level' }),
  music: PromptFile.optional().meta({ description: 'a prompt file played on a loop while callers wait (default: music.wav if present)' }),
};

export const CreateQueueBody = z.strictObject(QueueFields);
export type CreateQueueBody = z.infer<typeof CreateQueueBody>;
export const UpdateQueueBody = z
  .strictObject({
    strategy: QueueFields.strategy.unwrap().optional(),
    members: QueueFields.members.optional(),
    ringSeconds: QueueFields.ringSeconds.unwrap().optional(),
    wrapUpSeconds: QueueFields.wrapUpSeconds.unwrap().optional(),
    maxWaitSeconds: QueueFields.maxWaitSeconds.unwrap().optional(),
    announceSeconds: QueueFields.announceSeconds.unwrap().optional(),
    serviceLevelSeconds: QueueFields.serviceLevelSeconds.unwrap().optional(),
    music: QueueFields.music.unwrap().nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'nothing to change');
export type UpdateQueueBody = z.infer<typeof UpdateQueueBody>;

export const Queue = z.object({
  id: z.uuid(),
  name: z.string(),
  strategy: QueueStrategy,
  members: z.array(z.string()),
  ringSeconds: z.number().int(),
  wrapUpSeconds: z.number().int(),
  maxWaitSeconds: z.number().int(),
  announceSeconds: z.number().int(),
  serviceLevelSeconds: z.number().int(),
  music: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Queue = z.infer<typeof Queue>;

export const AgentStatusBody = z.strictObject({
  status: z.enum(['available', 'paused']).meta({ description: 'paused agents are skipped by every queue until available again' }),
});
