import { toE164 } from '../shared/schemas.js';

export interface BulkLine {
  /** 1-based line number in what the user pasted, so the report points at the right line. */
  line: number;
  text: string;
}
export interface ParsedBulk {
  good: (BulkLine & { number: string })[];
  bad: (BulkLine & { reason: string })[];
}

export const MAX_BULK_LINES = 10_000;

/** Splits a pasted list or CSV text into lines; blank lines keep their place in the numbering. */
export function splitLines(text: string): BulkLine[] {
  return text.split(/\r\n|\r|\n/).map((t, i) => ({ line: i + 1, text: t }));
}

/** The first CSV field (comma, semicolon or tab separated), without surrounding quotes. */
function firstField(text: string): string {
  const field = text.split(/[,;\t]/)[0] ?? '';
  return field
    .trim()
    .replace(/^"(.*)"$/, '$1')
    .trim();
}

/**
 * Reads one phone number per line (a bare list or CSV whose first column is the number) in any
 * common format. Blank lines and `#` comments are skipped; a first line without digits is a CSV
 * header. Each bad line gets its reason: not a number, or a repeat of an earlier line.
 */
export function parseBulkNumbers(lines: BulkLine[], defaultCountry?: string): ParsedBulk {
  const good: ParsedBulk['good'] = [];
  const bad: ParsedBulk['bad'] = [];
  const seen = new Map<string, number>();
  let first = true;
  for (const { line, text } of lines) {
    const field = firstField(text);
    if (field === '' || field.startsWith('#')) continue;
    const header = first && !/\d/.test(field);
    first = false;
    if (header) continue;
    const number = toE164(field, defaultCountry);
    if (!number) {
      bad.push({ line, text, reason: `"${field}" is not a valid phone number` });
      continue;
    }
    const earlier = seen.get(number);
    if (earlier !== undefined) {
      bad.push({ line, text, reason: `${number} repeats line ${earlier}` });
      continue;
    }
    seen.set(number, line);
    good.push({ line, text, number });
  }
  return { good, bad };
}
