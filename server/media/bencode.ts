/**
 * Bencode as rtpengine's ng protocol uses it: dictionaries (keys sorted), lists, integers and
 * strings (lengths in bytes, text in UTF-8). Booleans are sent as 1/0; null and undefined
 * dictionary values are left out. Decoding gives strings as UTF-8 text.
 */
export type Bencodable = string | number | boolean | null | undefined | Bencodable[] | { [key: string]: Bencodable };

function encodeInto(value: Bencodable, out: string[]): void {
  if (typeof value === 'string') {
    out.push(`${Buffer.byteLength(value)}:`, value);
  } else if (typeof value === 'number') {
    out.push(`i${Math.round(value)}e`);
  } else if (typeof value === 'boolean') {
    out.push(value ? 'i1e' : 'i0e');
  } else if (Array.isArray(value)) {
    out.push('l');
    for (const item of value) if (item !== null && item !== undefined) encodeInto(item, out);
    out.push('e');
  } else if (value !== null && value !== undefined) {
    out.push('d');
    for (const key of Object.keys(value).sort()) {
      const item = value[key];
      if (item === null || item === undefined) continue;
      encodeInto(key, out);
      encodeInto(item, out);
    }
    out.push('e');
  }
}

/** The bencoded text of `value` (send it as UTF-8: string lengths are counted in UTF-8 bytes). */
export function bencode(value: Bencodable): string {
  const out: string[] = [];
  encodeInto(value, out);
  return out.join('');
}

const D = 0x64;
const L = 0x6c;
const I = 0x69;
const E = 0x65;
const COLON = 0x3a;

function malformed(at: number): never {
  throw new Error(`malformed bencode at byte ${at}`);
}

function decodeAt(buf: Buffer, at: number): [unknown, number] {
  const c = buf[at];
  if (c === D) {
    const dict: Record<string, unknown> = {};
    let i = at + 1;
    while (buf[i] !== E) {
      if (i >= buf.length) malformed(i);
      const [key, afterKey] = decodeAt(buf, i);
      if (typeof key !== 'string') malformed(i);
      const [item, next] = decodeAt(buf, afterKey);
      dict[key] = item;
      i = next;
    }
    return [dict, i + 1];
  }
  if (c === L) {
    const list: unknown[] = [];
    let i = at + 1;
    while (buf[i] !== E) {
      if (i >= buf.length) malformed(i);
      const [item, next] = decodeAt(buf, i);
      list.push(item);
      i = next;
    }
    return [list, i + 1];
  }
  if (c === I) {
    const end = buf.indexOf(E, at + 1);
    const n = Number(buf.toString('latin1', at + 1, end));
    if (end < 0 || !Number.isFinite(n)) malformed(at);
    return [n, end + 1];
  }
  if (c !== undefined && c >= 0x30 && c <= 0x39) {
    const colon = buf.indexOf(COLON, at);
    const length = Number(buf.toString('latin1', at, colon));
    const start = colon + 1;
    if (colon < 0 || !Number.isInteger(length) || start + length > buf.length) malformed(at);
    return [buf.toString('utf8', start, start + length), start + length];
  }
  return malformed(at);
}

/** Decodes one bencoded value filling the whole buffer. */
export function bdecode(buf: Buffer): unknown {
  const [value, end] = decodeAt(buf, 0);
  if (end !== buf.length) malformed(end);
  return value;
}
