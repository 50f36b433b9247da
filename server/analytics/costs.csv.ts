import { isCurrency, minorDigits, parseMinor } from './money.js';

/** One day of spend of one campaign (and keyword), as stored in ad_costs. */
export interface CostRow {
  day: string;
  source: string;
  medium: string;
  campaign: string;
  /** '' = the whole campaign. */
  keyword: string;
  currency: string;
  minorDigits: number;
  costMinor: bigint;
  clicks: number | null;
  impressions: number | null;
}

/** A CSV problem with the 1-based line it is on (the header is line 1). */
export class CsvLineError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const REQUIRED = ['date', 'source', 'medium', 'campaign', 'cost', 'currency'] as const;
const OPTIONAL = ['keyword', 'clicks', 'impressions'] as const;
const KNOWN = new Set<string>([...REQUIRED, ...OPTIONAL]);

/**
 * Splits CSV text (RFC 4180: quotes, doubled quotes, CRLF or LF, a comma or semicolon delimiter
 * decided by the header) into records with the line each starts on.
 */
function records(text: string): Array<{ line: number; fields: string[] }> {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.slice(0, body.search(/\r?\n|$/));
  const delimiter = firstLine.includes(';') && !firstLine.includes(',') ? ';' : ',';
  const out: Array<{ line: number; fields: string[] }> = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (quoted) {
      if (ch === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') quoted = true;
    else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && body[i + 1] === '\n') i++;
      fields.push(field);
      out.push({ line: recordLine, fields });
      fields = [];
      field = '';
      line++;
      recordLine = line;
    } else field += ch;
  }
  if (quoted) throw new CsvLineError(recordLine, 'a quoted field is not closed');
  if (field !== '' || fields.length > 0) {
    fields.push(field);
    out.push({ line: recordLine, fields });
  }
  // Blank lines carry nothing (a trailing newline, an empty line between blocks).
  return out.filter((r) => !(r.fields.length === 1 && r.fields[0]!.trim() === ''));
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const validDay = (text: string) => {
  const m = DATE.exec(text);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.getUTCFullYear() === Number(m[1]) && date.getUTCMonth() === Number(m[2]) - 1 && date.getUTCDate() === Number(m[3]);
};

function count(text: string, line: number, column: string): number | null {
  if (text === '') return null;
  if (!/^\d{1,15}$/.test(text)) throw new CsvLineError(line, `${column} "${text}" is not a whole non-negative number`);
  return Number(text);
}

/**
 * Reads a cost upload (../shared/contracts.md: date, source, medium, campaign, keyword?, cost,
 * currency, clicks?, impressions?). Any bad line throws a CsvLineError naming it; nothing is
 * returned partially, so the caller stores all rows or none.
 */
export function parseCostCsv(text: string, maxRows = 200_000): CostRow[] {
  const all = records(text);
  const header = all.shift();
  if (!header) throw new CsvLineError(1, 'the file is empty (expected a header line: date,source,medium,campaign,keyword,cost,currency,clicks,impressions)');
  const names = header.fields.map((f) => f.trim().toLowerCase());
  for (const name of names) if (!KNOWN.has(name)) throw new CsvLineError(header.line, `unknown column "${name}" (known: ${[...KNOWN].join(', ')})`);
  for (const name of REQUIRED) if (!names.includes(name)) throw new CsvLineError(header.line, `missing column "${name}"`);
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new CsvLineError(header.line, `column "${name}" appears twice`);
    seen.add(name);
  }
  if (all.length > maxRows) throw new CsvLineError(all[maxRows]!.line, `more than ${maxRows} rows in one upload`);
  const keys = new Map<string, number>();
  return all.map(({ line, fields }) => {
    if (fields.length !== names.length) throw new CsvLineError(line, `${fields.length} fields, the header has ${names.length}`);
    const value = (name: string) => fields[names.indexOf(name)]?.trim() ?? '';
    const day = value('date');
    if (!validDay(day)) throw new CsvLineError(line, `date "${day}" is not a calendar date YYYY-MM-DD`);
    const text: Record<'source' | 'medium' | 'campaign', string> = { source: value('source'), medium: value('medium'), campaign: value('campaign') };
    for (const [name, v] of Object.entries(text)) {
      if (v === '') throw new CsvLineError(line, `${name} is empty`);
      if (v.length > 500) throw new CsvLineError(line, `${name} is longer than 500 characters`);
    }
    const currency = value('currency').toUpperCase();
    if (!isCurrency(currency)) throw new CsvLineError(line, `currency "${value('currency')}" is not an ISO 4217 code`);
    const digits = minorDigits(currency);
    const costText = value('cost');
    if (/^-/.test(costText)) throw new CsvLineError(line, `cost "${costText}" is negative`);
    const costMinor = parseMinor(costText, digits);
    if (costMinor === undefined) throw new CsvLineError(line, `cost "${costText}" is not a decimal amount with at most ${digits} digits after the point`);
    const keyword = names.includes('keyword') ? value('keyword') : '';
    const row: CostRow = {
      day,
      ...text,
      keyword,
      currency,
      minorDigits: digits,
      costMinor,
      clicks: names.includes('clicks') ? count(value('clicks'), line, 'clicks') : null,
      impressions: names.includes('impressions') ? count(value('impressions'), line, 'impressions') : null,
    };
    const key = JSON.stringify([day, row.source, row.medium, row.campaign, keyword]);
    const earlier = keys.get(key);
    if (earlier !== undefined) throw new CsvLineError(line, `the same date, source, medium, campaign and keyword as line ${earlier}`);
    keys.set(key, line);
    return row;
  });
}
