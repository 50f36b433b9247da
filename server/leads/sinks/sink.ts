import type { Queryable } from '../../db/pool.js';
import type { LeadPayload } from '../lead-payload.js';
import type { SinkKind } from '../leads.schemas.js';

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
}

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

/** fetch with the attempt's abort signal; network failures become retryable DeliveryErrors. */
export async function send(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal, redirect: 'manual' });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    throw new DeliveryError(`request to ${new URL(url).host} failed${cause || (err instanceof Error ? `: ${err.message}` : '')}`);
  }
}

/**
 * Turns a non-2xx answer into a DeliveryError: 429/503 carry Retry-After; `permanentOn` lists
 * statuses a retry cannot fix for this API (bad auth, bad payload).
 */
export async function failFor(res: Response, what: string, permanentOn: number[] = []): Promise<never> {
  const body = (await res.text().catch(() => '')).slice(0, 300);
  const retryAfterMs = res.status === 429 || res.status === 503 ? parseRetryAfter(res.headers.get('retry-after')) : undefined;
  throw new DeliveryError(`${what}: HTTP ${res.status}${body ? ` ${body}` : ''}`, {
    httpStatus: res.status,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    permanent: permanentOn.includes(res.status),
  });
}

export const digits = (phone: string | null) => (phone ?? '').replace(/\D/g, '');
