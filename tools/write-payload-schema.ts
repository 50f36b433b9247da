// Regenerates webhook-payload.schema.json from the zod type: `npx tsx tools/write-payload-schema.ts`.
import fs from 'node:fs';
import path from 'node:path';
import { webhookPayloadJsonSchema } from '../server/leads/lead-payload-schema.js';

const file = path.join(import.meta.dirname, '../server/leads/webhook-payload.schema.json');
fs.writeFileSync(file, `${JSON.stringify(webhookPayloadJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
