/** Standard Webhooks receiver: checks webhook-id/-timestamp/-signature against the secret, records valid messages. */
import crypto from 'node:crypto';
import { type FakeReply, type FakeServer, jsonOf, startFakeServer } from './fake-http.js';

export interface WebhookMessage {
  id: string;
  timestamp: number;
  payload: any;
  receivedAt: number;
}

export interface WebhookFake extends FakeServer {
  /** Every accepted (2xx) delivery, duplicates included. */
  received: WebhookMessage[];
  /** Requests refused for a bad signature, missing header or stale timestamp. */
  rejected: string[];
  /** Answer this status instead of 204 (e.g. 500, 410, 429), with optional headers. */
  failWith(status: number | undefined, headers?: Record<string, string>): void;
  /** Holds each accepted request this long before answering (the message is already recorded). */
  setDelay(ms: number): void;
  /** Resolves when `predicate` holds over `received` (checked on each arrival), or rejects after `timeoutMs`. */
  waitFor(predicate: (received: WebhookMessage[]) => boolean, timeoutMs?: number): Promise<void>;
}

export async function startWebhookFake(secret: string): Promise<WebhookFake> {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const received: WebhookMessage[] = [];
  const rejected: string[] = [];
  let failure: { status: number; headers?: Record<string, string> } | undefined;
  let delayMs = 0;
  const waiters = new Set<() => void>();

  const check = (headers: Record<string, string | string[] | undefined>, body: Buffer): string | undefined => {
    const id = headers['webhook-id'];
    const ts = headers['webhook-timestamp'];
    const sig = headers['webhook-signature'];
    if (typeof id !== 'string' || typeof ts !== 'string' || typeof sig !== 'string') return 'missing webhook-* header';
    if (!/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return 'timestamp outside tolerance';
    if (headers['content-type'] !== 'application/json') return 'content-type is not application/json';
    const expected = crypto.createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest();
    // Space-separated list: any v1 signature may match (key rotation).
    const ok = sig.split(' ').some((s) => {
      const [v, b64] = s.split(',');
      const given = Buffer.from(b64 ?? '', 'base64');
      return v === 'v1' && given.length === expected.length && crypto.timingSafeEqual(given, expected);
    });
    return ok ? undefined : 'signature mismatch';
  };

  const server = await startFakeServer(async (req): Promise<FakeReply> => {
    if (req.method !== 'POST') return { status: 405 };
    const problem = check(req.headers, req.body);
    if (problem) {
      rejected.push(problem);
      return { status: 401, body: { error: problem } };
    }
    if (failure) return { status: failure.status, ...(failure.headers ? { headers: failure.headers } : {}) };
    received.push({
      id: String(req.headers['webhook-id']),
      timestamp: Number(req.headers['webhook-timestamp']),
      payload: jsonOf(req),
      receivedAt: performance.now(),
    });
    for (const w of waiters) w();
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    return { status: 204 };
  });

  return Object.assign(server, {
    received,
    rejected,
    setDelay(ms: number) {
      delayMs = ms;
    },
    failWith(status: number | undefined, headers?: Record<string, string>) {
      failure = status === undefined ? undefined : { status, ...(headers ? { headers } : {}) };
    },
    waitFor(predicate: (r: WebhookMessage[]) => boolean, timeoutMs = 10_000) {
      if (predicate(received)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (predicate(received)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhook fake: condition not met in ${timeoutMs} ms (received ${received.length})`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  });
}

/** A fresh Standard Webhooks secret (32 random bytes). */
export const newWebhookSecret = () => `whsec_${crypto.randomBytes(32).toString('base64')}`;
