import { z } from 'zod';
import { EventType } from './lead-payload.js';

/** Base URLs are configurable so tests (and EU/US/self-hosted installs) point elsewhere. */
const baseUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));

// Standard Webhooks: "whsec_" + base64 of 24..64 random bytes.
const WebhookSecret = z
  .string()
  .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, 'expected whsec_<base64>')
  .refine((s) => {
    const n = Buffer.from(s.slice(6), 'base64').length;
    return n >= 24 && n <= 64;
  }, 'the secret must hold 24 to 64 bytes');

export const WebhookConfig = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    secret: WebhookSecret,
    events: z.array(EventType).min(1).optional(),
    timeoutMs: z.number().int().min(100).max(30_000).default(15_000),
  })
  .strict();

export const AmoCrmConfig = z
  .object({
    baseUrl: baseUrl.describe('https://<subdomain>.amocrm.ru'),
    token: z.string().min(10).describe('long-lived token or OAuth access token'),
    source: z.string().min(1).max(64).default('calltrack'),
    pipelineId: z.number().int().positive().optional(),
    responsibleUserId: z.number().int().positive().optional(),
  })
  .strict();

export const Bitrix24Config = z
  .object({
    webhookUrl: baseUrl.describe('https://<portal>/rest/<user_id>/<code>'),
    userId: z.number().int().positive().describe('the Bitrix24 user the call is registered to'),
    mode: z.enum(['telephony', 'lead']).default('telephony').describe('telephony.externalcall.* or crm.lead.add'),
    crmCreate: z.boolean().default(true),
  })
  .strict();

export const Ga4Config = z
  .object({
    measurementId: z.string().regex(/^G-[A-Z0-9]+$/, 'expected G-XXXXXXX'),
    apiSecret: z.string().min(8),
    baseUrl: baseUrl.default('https://www.google-analytics.com'),
    eventName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/)
      .default('phone_call'),
    onlyAnswered: z.boolean().default(false),
  })
  .strict();

export const MetricaConfig = z
  .object({
    counterId: z.number().int().positive(),
    token: z.string().min(10).describe('OAuth token'),
    baseUrl: baseUrl.default('https://api-metrika.yandex.net'),
    currency: z.string().length(3).default('RUB'),
  })
  .strict();

/** Google Ads offline conversions through the Data Manager API (events:ingest; contracts.md). */
export const GoogleAdsConversionsConfig = z
  .object({
    accountId: z.string().regex(/^\d{10}$/, 'the Google Ads account id, 10 digits'),
    conversionActionId: z.string().regex(/^\d+$/).describe('productDestinationId: the conversion action'),
    token: z.string().min(10).describe('OAuth access token'),
    baseUrl: baseUrl.default('https://datamanager.googleapis.com'),
  })
  .strict();

/** Yandex Metrica offline conversions (a JavaScript-event goal) by ClientID or yclid. */
export const MetricaOfflineConfig = z
  .object({
    counterId: z.number().int().positive(),
    token: z.string().min(10).describe('OAuth token'),
    target: z.string().min(1).max(100).describe('goal identifier (Target column)'),
    baseUrl: baseUrl.default('https://api-metrika.yandex.net'),
  })
  .strict();

export const AnalyticsConfig = z.object({}).strict();

export const CreateSinkBody = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('webhook'), name: z.string().min(1).max(100).optional(), config: WebhookConfig }),
  z.object({ kind: z.literal('amocrm'), name: z.string().min(1).max(100).optional(), config: AmoCrmConfig }),
  z.object({ kind: z.literal('bitrix24'), name: z.string().min(1).max(100).optional(), config: Bitrix24Config }),
  z.object({ kind: z.literal('ga4'), name: z.string().min(1).max(100).optional(), config: Ga4Config }),
  z.object({ kind: z.literal('metrica'), name: z.string().min(1).max(100).optional(), config: MetricaConfig }),
  z.object({ kind: z.literal('google_ads'), name: z.string().min(1).max(100).optional(), config: GoogleAdsConversionsConfig }),
  z.object({ kind: z.literal('metrica_offline'), name: z.string().min(1).max(100).optional(), config: MetricaOfflineConfig }),
  z.object({ kind: z.literal('analytics'), name: z.string().min(1).max(100).optional(), config: AnalyticsConfig.default({}) }),
]);
export type CreateSinkBody = z.infer<typeof CreateSinkBody>;
export type SinkKind = CreateSinkBody['kind'];
export type SinkConfigOf<K extends SinkKind> = Extract<CreateSinkBody, { kind: K }>['config'];

/** Which events each kind acts on; deliveries are created only for these. */
export const KIND_EVENTS: Record<SinkKind, EventType[]> = {
  webhook: ['call.started', 'call.completed', 'call.recording_ready', 'call.modified', 'form.submitted', 'deal.won'],
  amocrm: ['call.completed'],
  bitrix24: ['call.completed', 'call.recording_ready'],
  ga4: ['call.completed'],
  metrica: ['call.completed'],
  analytics: ['call.completed', 'call.modified'],
  google_ads: ['deal.won'],
  metrica_offline: ['deal.won'],
};

/** Config keys that are secrets: shown as "whsec_…abcd". */
const SECRET_KEYS = new Set(['secret', 'token', 'apiSecret', 'webhookUrl']);

export function maskSecret(value: string): string {
  if (value.startsWith('http')) {
    // A Bitrix24 inbound webhook URL carries its code in the path: keep the host only.
    try {
      return `${new URL(value).origin}/…${value.slice(-4)}`;
    } catch {
      /* fall through */
    }
  }
  const prefix = /^[a-z]+_/.exec(value)?.[0] ?? '';
  return `${prefix}…${value.slice(-4)}`;
}

export function maskConfig(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, SECRET_KEYS.has(k) && typeof v === 'string' ? maskSecret(v) : v]));
}

export const Sink = z.object({
  id: z.uuid(),
  kind: z.enum(['webhook', 'amocrm', 'bitrix24', 'ga4', 'metrica', 'google_ads', 'metrica_offline', 'analytics']),
  name: z.string(),
  config: z.record(z.string(), z.unknown()).describe('secrets masked'),
  events: z.array(EventType),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  createdAt: z.string(),
});
export type Sink = z.infer<typeof Sink>;

export const DeliveryStatus = z.enum(['pending', 'delivered', 'dead', 'skipped']);
export const Delivery = z.object({
  id: z.uuid(),
  eventId: z.uuid(),
  eventType: EventType,
  callId: z.guid(),
  status: DeliveryStatus,
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  lastStatus: z.number().int().nullable(),
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
  idempotencyKey: z.string(),
});
export type Delivery = z.infer<typeof Delivery>;

export const SinkParams = z.object({ id: z.uuid() });

export const UpdateSinkBody = z
  .object({
    name: z.string().min(1).max(100).optional(),
    config: z.record(z.string(), z.unknown()).optional().describe('only the fields to change; the kind’s schema checks the result'),
  })
  .strict();

export const SinkTestResult = z.object({
  outcome: z.enum(['delivered', 'skipped', 'failed']),
  httpStatus: z.number().int().nullable(),
  message: z.string(),
  durationMs: z.number().int(),
});
export const DeliveryParams = z.object({ id: z.uuid(), deliveryId: z.uuid() });
export const DeliveriesQuery = z.object({
  status: DeliveryStatus.optional(),
  callId: z.guid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
