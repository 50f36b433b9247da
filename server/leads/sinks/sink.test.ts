import { describe, expect, it } from 'vitest';
import { maskConfig, maskSecret, WebhookConfig } from '../leads.schemas.js';
import { parseRetryAfter } from './sink.js';
import { signWebhook } from './webhook.sink.js';

describe('signWebhook', () => {
  it('matches the Standard Webhooks reference vector', () => {
    const sig = signWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates, ignores junk', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.parse('2030-01-01T00:00:10Z')).toUTCString(), Date.parse('2030-01-01T00:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('secrets', () => {
  it('are masked to their prefix and last four characters', () => {
    expect(maskSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe('whsec_…LaSw');
    expect(maskSecret('https://portal.bitrix24.ru/rest/1/abcdefgh1234')).toBe('https://portal.bitrix24.ru/…1234');
    expect(maskConfig({ url: 'https://x.example/hook', secret: 'whsec_abcdefghijkl', timeoutMs: 5 })).toEqual({
      url: 'https://x.example/hook',
      secret: 'whsec_…ijkl',
      timeoutMs: 5,
    });
  });

  it('a webhook secret must be whsec_ + base64 of 24..64 bytes', () => {
    expect(WebhookConfig.safeParse({ url: 'https://x.example', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }).success).toBe(true);
    expect(WebhookConfig.safeParse({ url: 'https://x.example', secret: 'whsec_c2hvcnQ=' }).success).toBe(false);
    expect(WebhookConfig.safeParse({ url: 'ftp://x.example', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }).success).toBe(false);
  });
});
