/** Parsed SIP messages as the npm `sip` package represents them (plain objects). */
export interface SipUri {
  schema: string;
  user?: string;
  password?: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
  headers: Record<string, string>;
}

export interface NameAddr {
  name?: string;
  uri: string;
  params: Record<string, string | null>;
}
export interface Via {
  version?: string;
  protocol?: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
}

export interface SipHeaders {
  via: Via[];
  to: NameAddr;
  from: NameAddr;
  'call-id': string;
  cseq: { seq: number; method: string };
  contact?: NameAddr[];
  'max-forwards'?: string | number;
  'content-type'?: string;
  'content-length'?: number | string;
  authorization?: Array<Record<string, string>>;
  [name: string]: unknown;
}

export interface SipRequest {
  method: string;
  uri: string;
  version?: string;
  headers: SipHeaders;
  content?: string;
}
export interface SipResponse {
  status: number;
  reason: string;
  version?: string;
  headers: SipHeaders;
  content?: string;
}
export type SipMessage = SipRequest | SipResponse;

/** Where a request came from (transport-level, not headers: headers can lie). */
export interface SipRemote {
  protocol: string;
  address: string;
  port: number;
  /** The trusted SIP edge that relayed the request and named this sender (see `sourceOf`); absent when it came straight from it. */
  relayedBy?: string;
}

export const isRequest = (m: SipMessage): m is SipRequest => 'method' in m && typeof (m as SipRequest).method === 'string';

/** The lower-cased tokens of a comma-list header (Require, Supported), however npm `sip` left it: one string or several. */
export const optionTags = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value])
    .flatMap((part) => String(part ?? '').split(','))
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
