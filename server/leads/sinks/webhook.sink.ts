import crypto from 'node:crypto';
import { WebhookConfig } from '../leads.schemas.js';
import { DeliveryError, failFor, send, type SinkHandler } from './sink.js';

type Config = ReturnType<typeof WebhookConfig.parse>;

/** Standard Webhooks signature: base64 HMAC-SHA256 over "{id}.{timestamp}.{body}" keyed by the whsec_ secret's bytes. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export const webhookSink: SinkHandler<Config> = {
  kind: 'webhook',
  parseConfig: (raw) => WebhookConfig.parse(raw),
  async deliver({ config, payload, idempotencyKey, signal, egress }) {
    if (config.events && !config.events.includes(payload.type)) return { status: 'skipped', reason: 'event not subscribed' };
    const body = JSON.stringify(payload);
    // A fresh timestamp per attempt (receivers reject old ones); the id stays the same for dedupe.
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await send(
      config.url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'calltrack-webhooks/1',
          'webhook-id': idempotencyKey,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(config.secret, idempotencyKey, timestamp, body),
        },
        body,
      },
      { signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]), egress },
    );
    // 410 Gone: the receiver asks us to stop (Standard Webhooks); the worker disables the sink.
    if (res.status === 410) throw new DeliveryError('endpoint answered 410 Gone; sink disabled', { httpStatus: 410, disableSink: true });
    // Only 2xx counts; 3xx is a failure too (we do not follow redirects with a signed body).
    if (res.status < 200 || res.status > 299) await failFor(res, 'webhook');
    await res.arrayBuffer().catch(() => undefined);
    return { status: 'delivered', httpStatus: res.status };
  },
};
