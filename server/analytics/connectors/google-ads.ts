import type { z } from 'zod';
import type { CostRow } from '../costs.csv.js';
import type { GoogleAdsConfig } from '../cost-sources.schemas.js';
import { minorDigits } from '../money.js';
import { ConnectorError } from './yandex-direct.js';

const API_VERSION = 'v26';
const REQUEST_TIMEOUT_MS = 60_000;

interface StreamRow {
  segments?: { date?: string };
  campaign?: { id?: string; name?: string };
  metrics?: { clicks?: string | number; impressions?: string | number; costMicros?: string | number; cost_micros?: string | number };
}

/** Micro-units (a string: int64 does not fit a JSON number) → minor units, rounded half up. */
export function microsToMinor(micros: string, digits: number): bigint {
  if (!/^\d+$/.test(micros)) throw new ConnectorError(`cost_micros "${micros}" is not a whole number`);
  const divisor = 10n ** BigInt(6 - digits);
  return (BigInt(micros) + divisor / 2n) / divisor;
}

/** Daily spend per campaign from googleAds:searchStream (contracts.md); the response is a JSON array of batches. */
export async function fetchGoogleAdsCosts(config: z.infer<typeof GoogleAdsConfig>, from: string, to: string): Promise<CostRow[]> {
  const query = `SELECT segments.date, campaign.id, campaign.name, metrics.clicks, metrics.impressions, metrics.cost_micros FROM campaign WHERE segments.date BETWEEN '${from}' AND '${to}'`;
  const headers: Record<string, string> = {
    authorization: `Bearer ${config.token}`,
    'developer-token': config.developerToken,
    'content-type': 'application/json',
  };
  if (config.loginCustomerId) headers['login-customer-id'] = config.loginCustomerId;
  let res: Response;
  try {
    res = await fetch(`${config.baseUrl.replace(/\/+$/, '')}/${API_VERSION}/customers/${config.customerId}/googleAds:searchStream`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ConnectorError(`Google Ads unreachable: ${(err as Error).message}`);
  }
  const text = await res.text();
  if (res.status !== 200) throw new ConnectorError(`Google Ads ${res.status}: ${text.slice(0, 300)}`);
  let batches: Array<{ results?: StreamRow[] }>;
  try {
    batches = JSON.parse(text);
  } catch {
    throw new ConnectorError('Google Ads answered something that is not JSON');
  }
  const digits = minorDigits(config.currency);
  const rows: CostRow[] = [];
  for (const batch of Array.isArray(batches) ? batches : []) {
    for (const r of batch.results ?? []) {
      const micros = String(r.metrics?.costMicros ?? r.metrics?.cost_micros ?? '0');
      rows.push({
        day: r.segments?.date ?? '',
        source: 'google',
        medium: 'cpc',
        campaign: r.campaign?.name ?? r.campaign?.id ?? '',
        keyword: '',
        currency: config.currency,
        minorDigits: digits,
        costMinor: microsToMinor(micros, digits),
        clicks: Number(r.metrics?.clicks ?? 0),
        impressions: Number(r.metrics?.impressions ?? 0),
      });
    }
  }
  return rows;
}
