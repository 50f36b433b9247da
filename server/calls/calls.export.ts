import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/pool.js';
import { type CallFilters, type CallView, listCallViews } from './call-view.js';

/**
 * One CSV cell (RFC 4180 quoting). A text cell starting with = + - @ (or a tab/CR) would run as a
 * formula when the file is opened in a spreadsheet, so it gets a leading apostrophe; a plain number
 * such as an E.164 "+74951234567" or "-5" cannot run anything and stays as it is.
 */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  const risky = /^[=+\-@\t\r]/.test(s) && !/^[+-]?\d+(\.\d+)?$/.test(s);
  const safe = risky ? `'${s}` : s;
  return /[",\n\r;]/.test(safe) || risky ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const CSV_COLUMNS: Array<[string, (call: CallView) => unknown]> = [
  ['id', (call) => call.id],
  ['started_at', (call) => call.startedAt.toISOString()],
  ['answered_at', (call) => call.answeredAt?.toISOString()],
  ['ended_at', (call) => call.endedAt?.toISOString()],
  ['caller', (call) => call.caller],
  ['tracking_number', (call) => call.trackingNumber],
  ['disposition', (call) => call.disposition],
  ['talk_seconds', (call) => call.talkSeconds],
  ['ring_seconds', (call) => call.ringSeconds],
  ['answered_by', (call) => call.answeredBy],
  ['source', (call) => call.channel.source],
  ['medium', (call) => call.channel.medium],
  ['campaign', (call) => call.channel.campaign],
  ['keyword', (call) => call.channel.keyword],
  ['landing_page', (call) => call.visit?.landingPage],
  ['referrer', (call) => call.visit?.referrer],
  ['confidence', (call) => call.confidence],
  ['first_time', (call) => call.firstTime],
  ['prior_calls', (call) => call.priorCalls],
  ['ivr_digits', (call) => call.ivrDigits],
  ['score', (call) => call.score],
  ['value', (call) => call.value],
  ['tags', (call) => call.tags.join(' ')],
];
const csvRow = (call: CallView) => `${CSV_COLUMNS.map(([, get]) => csvCell(get(call))).join(',')}\r\n`;
const EXPORT_PAGE = 1000;
/** A bound on one export (≈ 30 MB); past it the file ends with a marker row instead of growing forever. */
const EXPORT_MAX_ROWS = 200_000;

/** Pages through the filtered log by keyset and yields CSV lines, so memory stays flat however long the export. */
export async function* csvLines(db: Db, accountId: string, filters: CallFilters, log: FastifyBaseLogger): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.map(([name]) => name).join(',')}\r\n`;
  let cursor: string | undefined;
  let rows = 0;
  try {
    do {
      const page = await listCallViews(db, accountId, { ...filters, limit: EXPORT_PAGE, ...(cursor ? { cursor } : {}) });
      if (page === 'bad-cursor') return; // cannot happen: we made the cursor ourselves
      yield page.items.map(csvRow).join('');
      rows += page.items.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor && rows < EXPORT_MAX_ROWS);
    if (cursor) yield `# truncated after ${rows} rows: narrow the period\r\n`;
  } catch (err) {
    // Headers are gone already: the best we can do is end the file visibly broken and log why.
    log.error({ err, type: 'calls_export_failed' }, 'calls CSV export failed mid-stream');
    yield '# export failed: the file is incomplete\r\n';
  }
}
