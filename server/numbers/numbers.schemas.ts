import { z } from 'zod';
import { E164 } from '../shared/schemas.js';

export const CreateNumberBody = z.object({
  number: E164,
  trunkId: z.uuid(),
  dialplan: z.string().optional(),
});

export const TrackingNumber = z.object({
  id: z.uuid(),
  number: z.string().meta({ example: '+74951234567' }),
  trunkId: z.uuid(),
  poolId: z.uuid().nullable(),
  sourceId: z.uuid().nullable(),
  dialplan: z.string().nullable(),
  quarantineUntil: z.string().nullable(),
  createdAt: z.string(),
});
export type TrackingNumber = z.infer<typeof TrackingNumber>;

export const NumberParams = z.object({ number: E164 });

/** Everything the call path needs about a dialled number, resolved in one query. */
export interface NumberRoute {
  numberId: string;
  number: string;
  accountId: string;
  trunkId: string;
  poolId: string | null;
  sourceId: string | null;
  siteId: string | null;
  /** The most specific binding: number, then pool or source, then site. */
  dialplan: string | null;
}
