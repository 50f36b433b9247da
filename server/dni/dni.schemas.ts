import { z } from 'zod';

const Text = (max: number) => z.string().max(max);

/** What the snippet sends. The server reads UTM tags and click ids from `url` itself. */
export const CreateSessionBody = z.object({
  siteKey: Text(100),
  url: Text(4096).meta({ description: 'The page URL (landing page for a new session)' }),
  referrer: Text(4096).optional(),
  visitorId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{8,64}$/)
    .optional()
    .meta({ description: 'Used only when the visitor cookie is missing' }),
  gaClientId: Text(100).optional().meta({ description: 'From the _ga cookie: the last two fields, e.g. 1234567890.1700000000' }),
  ymClientId: Text(100).optional().meta({ description: 'From the _ym_uid cookie' }),
  sessionId: z.uuid().optional().meta({ description: 'The previous page view’s session: reused while it is alive' }),
});
export type CreateSessionBody = z.infer<typeof CreateSessionBody>;

export const SessionResponse = z.object({
  sessionId: z.uuid().nullable().meta({ description: 'null for bots (no session, no lease)' }),
  number: z.string().meta({ description: 'E.164 number to show: a tracking number, or the default number' }),
  displayNumber: z.string(),
  defaultNumber: z.string(),
  tracking: z.boolean().meta({ description: 'false when the default number is shown (bot, exhausted pool, no pool, outage)' }),
  keepAliveSeconds: z.number().int(),
  expiresAt: z.string().nullable(),
  reason: z.string().optional(),
});
export type SessionResponse = z.infer<typeof SessionResponse>;

export const SessionParams = z.object({ sessionId: z.uuid() });

export const KeepAliveResponse = z.object({
  number: z.string(),
  displayNumber: z.string(),
  tracking: z.boolean(),
  expiresAt: z.string().nullable(),
  keepAliveSeconds: z.number().int(),
});
export type KeepAliveResponse = z.infer<typeof KeepAliveResponse>;

/** Click ids of the ad networks we recognise, as they appear in landing URLs. */
export const CLICK_IDS = ['gclid', 'gbraid', 'wbraid', 'fbclid', 'msclkid', 'yclid'] as const;
export const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;
