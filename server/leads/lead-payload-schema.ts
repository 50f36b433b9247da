import { z } from 'zod';
import { WebhookPayload } from './lead-payload.js';

/** The JSON Schema receivers get for the webhook body (kept in webhook-payload.schema.json; a test checks they match). */
export function webhookPayloadJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(WebhookPayload, { target: 'draft-2020-12', io: 'output' }),
    $id: 'https://calltrack.local/schemas/webhook-payload.v1.json',
    description:
      'Body of every webhook (call.started, call.completed, call.recording_ready, call.modified; form.submitted has a `form` and deal.won a `deal` instead of `call`). Signed per Standard Webhooks: ' +
      'headers webhook-id (same on every retry: dedupe on it), webhook-timestamp, webhook-signature "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>".',
  };
}
