import { AppError, ERRORS } from '../errors.js';

/** Multipart bodies nest (multipart/alternative inside multipart/mixed); deeper than this is no carrier's. */
const MAX_DEPTH = 3;

/** A message's type and body, the fields of npm `sip`'s requests and responses this module reads and rewrites. */
export interface BodyCarrier {
  headers: { 'content-type'?: string | undefined } & Record<string, unknown>;
  content?: string | undefined;
}

interface ContentType {
  type: string;
  params: Map<string, string>;
}

/** `multipart/mixed; boundary="a b"` → type and parameters (names lower-cased, quotes removed). */
export function parseContentType(value: string): ContentType {
  const [type = '', ...rest] = splitOutsideQuotes(value, ';');
  const params = new Map<string, string>();
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const raw = p.slice(eq + 1).trim();
    params.set(p.slice(0, eq).trim().toLowerCase(), raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw);
  }
  return { type: type.trim().toLowerCase(), params };
}

function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '"') quoted = !quoted;
    else if (value[i] === separator && !quoted) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

/** The parts between `--boundary` lines (RFC 2046 5.1.1); preamble and epilogue are dropped. */
function splitMultipart(body: string, boundary: string): Part[] | undefined {
  const delimiter = `--${boundary}`;
  const lines = body.split(/\r?\n/);
  const parts: string[][] = [];
  let current: string[] | undefined;
  let closed = false;
  for (const line of lines) {
    const trimmed = line.trimEnd();
    if (trimmed === delimiter || trimmed === `${delimiter}--`) {
      if (current) parts.push(current);
      current = trimmed === delimiter ? [] : undefined;
      if (!current) {
        closed = true;
        break;
      }
      continue;
    }
    current?.push(line);
  }
  // A body cut short (no closing delimiter) still gives the parts it completed, and the last one as far as it goes.
  if (!closed && current) parts.push(current);
  if (parts.length === 0) return undefined;
  return parts.map((partLines) => {
    const blank = partLines.indexOf('');
    const headerLines = blank < 0 ? partLines : partLines.slice(0, blank);
    const headers = new Map<string, string>();
    for (const h of headerLines) {
      const colon = h.indexOf(':');
      if (colon > 0) headers.set(h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim());
    }
    return { headers, body: blank < 0 ? '' : partLines.slice(blank + 1).join('\r\n') };
  });
}

/** `signal;handling=required`: the sender says a receiver that cannot read the part must refuse the message. */
function requiredPart(part: Part): boolean {
  const disposition = part.headers.get('content-disposition');
  return disposition !== undefined && parseContentType(disposition).params.get('handling')?.toLowerCase() === 'required';
}

/**
 * The session description a body carries: the body itself when it is application/sdp, or the
 * application/sdp part of a multipart one (RFC 5621) — carriers that interwork with ISUP (SIP-I,
 * SIP-T, RFC 3204) send the SDP next to an application/isup part. A B2BUA terminates the
 * signalling, so the other parts stay here. Returns '' for a message with no session description
 * (a late offer), or the 415 to answer when a part the sender marked required is not one we read.
 *
 * Lenient on purpose: a part of another type is skipped unless it says `handling=required`.
 * Strictly a part that says nothing is required too (RFC 3261 20.11), but refusing a paying
 * caller over an ISUP copy of what the SIP headers already say helps nobody.
 */
export function sessionDescriptionOf(contentType: string | undefined, content: string | undefined): string | AppError {
  const body = content ?? '';
  if (body.trim() === '') return '';
  const type = parseContentType(contentType ?? '');
  if (type.type === '' || type.type === 'application/sdp') return body;
  return fromParts(type, body, 0);
}

function fromParts(type: ContentType, body: string, depth: number): string | AppError {
  if (!type.type.startsWith('multipart/')) return ERRORS.unsupportedMediaType(type.type);
  const boundary = type.params.get('boundary');
  if (!boundary || depth >= MAX_DEPTH) return ERRORS.unsupportedMediaType(type.type);
  const parts = splitMultipart(body, boundary);
  if (!parts) return ERRORS.malformedRequest(`a ${type.type} body without a part delimited by its boundary`);
  let sdp: string | undefined;
  let refused: AppError | undefined;
  for (const part of parts) {
    const partType = parseContentType(part.headers.get('content-type') ?? 'text/plain');
    const found =
      partType.type === 'application/sdp' ? part.body : partType.type.startsWith('multipart/') ? fromParts(partType, part.body, depth + 1) : undefined;
    if (typeof found === 'string' && found.trim() !== '') sdp ??= found;
    else if (found instanceof AppError || (found === undefined && requiredPart(part))) {
      refused ??= found instanceof AppError ? found : ERRORS.unsupportedMediaType(partType.type);
    }
  }
  if (refused) return refused;
  return sdp ?? '';
}

/**
 * Rewrites a message so that it carries its session description alone, as application/sdp (or no
 * body at all): everything above the transport reads `content` as SDP. Returns the 415 (or 400) to
 * answer when the body cannot be read that way; the message is then left as it came.
 */
export function keepSessionDescription(message: BodyCarrier): AppError | undefined {
  const contentType = message.headers['content-type'];
  if (contentType === undefined || parseContentType(contentType).type === 'application/sdp') return undefined;
  const sdp = sessionDescriptionOf(contentType, message.content);
  if (sdp instanceof AppError) return sdp;
  message.content = sdp;
  if (sdp === '') delete message.headers['content-type'];
  else message.headers['content-type'] = 'application/sdp';
  return undefined;
}
