import { z } from 'zod';
import { Role } from '../shared/schemas.js';

export const DEFAULT_ACCOUNT_ID = '00000000-0000-0000-0000-000000000001';

/** Who is making a request: resolved from an API key (or, for the web UI, a session). */
export interface Principal {
  accountId: string;
  role: Role;
  keyId?: string;
  userId?: string;
  name: string;
}

export const CreateApiKeyBody = z.object({
  name: z.string().trim().min(1).max(100),
  role: Role,
});

export const ApiKeyView = z.object({
  id: z.uuid(),
  name: z.string(),
  role: Role,
  prefix: z.string().meta({ description: 'First characters of the key, to recognise it' }),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiKeyView = z.infer<typeof ApiKeyView>;

export const CreatedApiKey = ApiKeyView.extend({ key: z.string().meta({ description: 'Shown once; store it now' }) });
