// The one place the UI talks to the server: same /v1 API as API clients, authenticated by the
// session cookie, with the CSRF token echoed on every mutating request.
export type Role = 'admin' | 'manager' | 'marketer' | 'viewer';

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: Role;
}
export interface Session {
  user: SessionUser | null;
  principal: { name: string; role: Role };
  csrfToken: string | null;
}

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthenticated: (() => void) | undefined;
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

export async function api<T = unknown>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(url, { method, headers, credentials: 'same-origin', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!res.ok) {
    const err = data as { error?: string; message?: string } | undefined;
    if (res.status === 401 && !url.startsWith('/v1/auth/')) onUnauthenticated?.();
    throw new ApiError(res.status, err?.error ?? 'error', err?.message ?? `${res.status} ${res.statusText}`);
  }
  return data as T;
}

export const get = <T,>(url: string) => api<T>('GET', url);
export const post = <T,>(url: string, body?: unknown) => api<T>('POST', url, body ?? {});
export const put = <T,>(url: string, body?: unknown) => api<T>('PUT', url, body ?? {});
export const patch = <T,>(url: string, body?: unknown) => api<T>('PATCH', url, body ?? {});
export const del = <T,>(url: string) => api<T>('DELETE', url);

export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export interface CallSummary {
  id: string;
  direction: 'inbound' | 'outbound' | 'internal';
  callee: string | null;
  callbackOf: string | null;
  caller: string;
  trackingNumber: string;
  startedAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  disposition: string | null;
  talkSeconds: number;
  ringSeconds: number;
  answeredBy: string | null;
  source: string | null;
  campaign: string | null;
  confidence: string;
  firstTime: boolean | null;
  tags: string[];
  hasRecording: boolean;
}
export type Confidence = 'exact' | 'ambiguous' | 'static' | 'none';
/** Mirrors server/calls/calls.schemas.ts (Attribution, CallDetail). */
export interface Attribution {
  sessionId: string | null;
  sourceId: string | null;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  keyword: string | null;
  landingPage: string | null;
  referrer: string | null;
  utm: Record<string, string>;
  utmSource: string | null;
  utmMedium: string | null;
  utmCampaign: string | null;
  utmTerm: string | null;
  utmContent: string | null;
  gclid: string | null;
  yclid: string | null;
  gaClientId: string | null;
  ymClientId: string | null;
  confidence: Confidence;
  reason: string | null;
}
export interface CallDetail extends CallSummary {
  callerName: string | null;
  queue: { name: string; waitSeconds: number; outcome: string; withinServiceLevel: boolean | null } | null;
  dialplan: string | null;
  hangupBy: string | null;
  finalSipStatus: number | null;
  ivrDigits: string | null;
  priorCalls: number;
  score: number | null;
  value: number | null;
  attribution: Attribution;
  notes: { id: string; author: string; text: string; createdAt: string }[];
  recording: { url: string; durationSeconds: number; channels: number } | null;
  recordingStatus: 'none' | 'pending' | 'ready' | 'failed';
}

/** What each role may do; the API enforces the same rules (403), the UI only hides what would fail. */
export const can = {
  tag: (r: Role) => r !== 'viewer',
  note: (r: Role) => r === 'admin' || r === 'manager',
  score: (r: Role) => r === 'admin' || r === 'manager',
  manageNumbers: (r: Role) => r === 'admin',
  manageSources: (r: Role) => r === 'admin' || r === 'marketer',
  manageTagRules: (r: Role) => r === 'admin' || r === 'marketer',
  seeSettings: (r: Role) => r === 'admin' || r === 'manager',
  manageAccess: (r: Role) => r === 'admin',
  seeListens: (r: Role) => r === 'admin' || r === 'manager',
};
