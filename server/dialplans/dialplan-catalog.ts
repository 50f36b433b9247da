import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DialplanName } from '../shared/schemas.js';

/** What provisioning needs to know about dialplans: whether a name can be bound. */
export interface DialplanCatalog {
  /** A YAML plan any account can bind, or one the account stored with /v1/dialplans. */
  has(name: string, accountId?: string): boolean;
}

export const DialplanBindingBody = z.object({
  dialplan: DialplanName.nullable().meta({ description: 'Name of a dialplan in dialplans/ (file name without .yaml); null unbinds' }),
});
export const DialplanBinding = z.object({ dialplan: z.string().nullable() });

/** Until the dialplan loader is wired in: a name is bindable when its YAML file exists. */
export function createFileDialplanCatalog(dir: string): DialplanCatalog {
  return { has: (name) => /^[a-z0-9][a-z0-9_-]*$/i.test(name) && ['yaml', 'yml'].some((ext) => fs.existsSync(path.join(dir, `${name}.${ext}`))) };
}
