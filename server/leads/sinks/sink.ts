import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { Queryable } from '../../db/pool.js';
import type { LeadPayload } from '../lead-payload.js';
import type { SinkKind } from '../leads.schemas.js';
import type { EgressPolicy } from './egress.js';

/** Everything a sink gets for one delivery attempt. */
export interface DeliveryContext<C> {
  config: C;
  /** A call event's lead. form.submitted and deal.won payloads reach only the kinds subscribed to them (KIND_EVENTS), which parse them. */
  payload: LeadPayload;
  /** Stable per (event, sink) across every retry: the receiver's dedupe key. */
  idempotencyKey: string;
  attempt: number;
  sinkId: string;
  /** Steps finished by earlier attempts of this delivery. */
  progress: Record<string, unknown>;
  /** Persists finished steps now, so a crash after this point resumes after the step. */
  saveProgress(progress: Record<string, unknown>): Promise<void>;
  db: Queryable;
  signal: AbortSignal;
  /** Which addresses requests may reach (send() enforces it after DNS resolution). */
  egress: EgressPolicy;
}

/** What send() needs from a delivery: its abort signal and the egress policy. */
export type SendContext = Pick<DeliveryContext<unknown>, 'signal' | 'egress'>;

export type DeliveryResult = { status: 'delivered'; httpStatus?: number; note?: string } | { status: 'skipped'; reason: string };

export interface SinkHandler<C = unknown> {
  kind: SinkKind;
  parseConfig(raw: unknown): C;
  deliver(ctx: DeliveryContext<C>): Promise<DeliveryResult>;
}

/** Any kind's handler: each parses its own config, so the map of kinds cannot name one config type. */
// biome-ignore lint/suspicious/noExplicitAny: config types differ per kind and deliver() is contravariant in them
export type AnySinkHandler = SinkHandler<any>;

/** A failed attempt; the worker decides retry / dead-letter / disable from these flags. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    public readonly opts: { httpStatus?: number; retryAfterMs?: number; permanent?: boolean; disableSink?: boolean } = {},
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const NULL_BODY_STATUSES = new Set([204, 205, 304]);

/**
 * A fetch for sinks: node:http(s) with the egress policy's `lookup`, so the socket connects only to
 * an address that passed the check (global fetch resolves on its own and cannot be told). Literal
 * IP hosts skip DNS and are checked here. Redirects are not followed. Network failures become
 * retryable DeliveryErrors; a refused address is a permanent one.
 *
 * @example const res = await send(`${config.baseUrl}/api/v4/calls`, { method: 'POST', headers, body }, ctx);
 */
export async function send(url: string, init: RequestInit, { signal, egress }: SendContext): Promise<Response> {
  // Request normalises the body (string, FormData with its boundary, …) and headers for us.
  const request = new Request(url, init);
  const target = new URL(request.url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const literal = egress.refusal(host);
  if (literal && !literal.endsWith('is not an IP address')) throw new DeliveryError(`request to ${target.host} refused: ${literal}`, { permanent: true });
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const headers: Record<string, string> = Object.fromEntries(request.headers);
  if (body) headers['content-length'] = String(body.length);
  const secure = target.protocol === 'https:';
  const client = secure ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const agent = secure ? egress.agents.https : egress.agents.http;
    const req = client.request(target, { method: request.method, headers, signal, lookup: egress.lookup, agent }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 599) {
        res.destroy();
        reject(new DeliveryError(`request to ${target.host}: unexpected HTTP ${status}`));
        return;
      }
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, one);
      }
      const stream = NULL_BODY_STATUSES.has(status) || request.method === 'HEAD' ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
      if (!stream) res.resume();
      resolve(new Response(stream, { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EGRESS_REFUSED') reject(new DeliveryError(`request to ${target.host} refused: ${err.message}`, { permanent: true }));
      else reject(new DeliveryError(`request to ${target.host} failed: ${err.code ?? err.message}`));
    });
    req.end(body);
  });
}

/**
 * Turns a non-2xx answer into a DeliveryError: 429/503 carry Retry-After; `permanentOn` lists
 * statuses a retry cannot fix for this API (bad auth, bad payload). The body is not kept: it is
 * the receiver's text (an internal page, a token echo) and delivery errors are shown to admins.
 */
export async function failFor(res: Response, what: string, permanentOn: number[] = []): Promise<never> {
  await res.body?.cancel().catch(() => undefined);
  const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after')) : undefined;
  throw new DeliveryError(`${what}: HTTP ${res.status}${res.statusText ? ` ${res.statusText.slice(0, 60)}` : ''}`, {
    httpStatus: res.status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    permanent: permanentOn.includes(res.status),
  });
}

export const digits = (phone: string | null) => (phone ?? '').replace(/\D/g, '');
