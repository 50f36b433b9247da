import type { z } from 'zod';
import type { CostRow } from '../costs.csv.js';
import type { YandexDirectConfig } from '../cost-sources.schemas.js';
import { minorDigits, parseMinor } from '../money.js';

export class ConnectorError extends Error {}

const FIELDS = ['Date', 'CampaignId', 'CampaignName', 'Criterion', 'Clicks', 'Impressions', 'Cost'];
/** Offline reports are polled at most this many times (retryIn seconds apart) before the pull is given up. */
const MAX_POLLS = 30;
const REQUEST_TIMEOUT_MS = 60_000;

export interface PollOptions {
  /** Multiplies the server's retryIn (tests make the waits short). */
  retryScale?: number;
}

/**
 * Daily spend per campaign and keyword from the Direct Reports API v5 (contracts.md): the same
 * request is repeated while the service answers 201/202 (report queued or building) after the
 * `retryIn` header's seconds; 200 carries the TSV.
 */
export async function fetchDirectCosts(config: z.infer<typeof YandexDirectConfig>, from: string, to: string, o: PollOptions = {}): Promise<CostRow[]> {
  const body = JSON.stringify({
    params: {
      SelectionCriteria: { DateFrom: from, DateTo: to },
      FieldNames: FIELDS,
      // Unique per parameters: Direct caches a report by name, and a name reused with other dates is an error.
      ReportName: `calltrack ${from}..${to} ${FIELDS.length}`,
      ReportType: 'CUSTOM_REPORT',
      DateRangeType: 'CUSTOM_DATE',
      Format: 'TSV',
      IncludeVAT: 'YES',
    },
  });
  const headers: Record<string, string> = {
    authorization: `Bearer ${config.token}`,
    'content-type': 'application/json; charset=utf-8',
    'accept-language': 'en',
    processingMode: 'auto',
    returnMoneyInMicros: 'false',
    skipReportHeader: 'true',
    skipReportSummary: 'true',
  };
  if (config.clientLogin) headers['Client-Login'] = config.clientLogin;
  for (let poll = 0; poll < MAX_POLLS; poll++) {
    let res: Response;
    try {
      res = await fetch(`${config.baseUrl.replace(/\/+$/, '')}/json/v5/reports`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new ConnectorError(`Yandex Direct unreachable: ${(err as Error).message}`);
    }
    if (res.status === 201 || res.status === 202) {
      await res.arrayBuffer();
      const seconds = Math.min(Math.max(Number(res.headers.get('retryIn') ?? '5') || 5, 0), 300);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000 * (o.retryScale ?? 1)));
      continue;
    }
    const text = await res.text();
    if (res.status !== 200) throw new ConnectorError(`Yandex Direct ${res.status}: ${text.slice(0, 300)}`);
    return parseDirectTsv(text, config.currency);
  }
  throw new ConnectorError(`Yandex Direct report not ready after ${MAX_POLLS} polls`);
}

/** The TSV of a CUSTOM_REPORT with our FieldNames (first line: column names). "--" = no keyword. */
export function parseDirectTsv(tsv: string, currency: string): CostRow[] {
  const lines = tsv.split(/\r?\n/).filter((l) => l.length > 0);
  const header = lines.shift()?.split('\t') ?? [];
  const at = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new ConnectorError(`Yandex Direct report has no ${name} column`);
    return i;
  };
  const [date, campaign, criterion, clicks, impressions, cost] = ['Date', 'CampaignName', 'Criterion', 'Clicks', 'Impressions', 'Cost'].map(at) as number[];
  const digits = minorDigits(currency);
  const merged = new Map<string, CostRow>();
  for (const line of lines) {
    const cells = line.split('\t');
    const costMinor = parseMinor(cells[cost!] ?? '', digits);
    if (costMinor === undefined) throw new ConnectorError(`Yandex Direct cost "${cells[cost!]}" is not an amount`);
    const keyword = cells[criterion!] && cells[criterion!] !== '--' ? cells[criterion!]! : '';
    const row: CostRow = {
      day: cells[date!] ?? '',
      source: 'yandex',
      medium: 'cpc',
      campaign: cells[campaign!] ?? '',
      keyword,
      currency,
      minorDigits: digits,
      costMinor,
      clicks: Number(cells[clicks!]) || 0,
      impressions: Number(cells[impressions!]) || 0,
    };
    // Two criteria may share a text (autotargeting, the same phrase in two groups): one stored row.
    const key = JSON.stringify([row.day, row.campaign, row.keyword]);
    const earlier = merged.get(key);
    if (earlier) {
      earlier.costMinor += row.costMinor;
      earlier.clicks = (earlier.clicks ?? 0) + (row.clicks ?? 0);
      earlier.impressions = (earlier.impressions ?? 0) + (row.impressions ?? 0);
    } else merged.set(key, row);
  }
  return [...merged.values()];
}
