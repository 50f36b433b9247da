/**
 * Google Ads API searchStream fake (contracts.md): checks developer-token, bearer and the GAQL
 * query's fields and date range, and answers a JSON array of batches whose metrics carry int64 as
 * strings (costMicros "1234560000"), as the REST API does.
 */
import { type FakeReply, type FakeRequest, type FakeServer, jsonOf, startFakeServer } from './fake-http.js';

export interface GoogleCostRow {
  date: string;
  campaignId: string;
  campaign: string;
  clicks: number;
  impressions: number;
  costMicros: string;
}

export interface GoogleAdsFake extends FakeServer {
  rows: GoogleCostRow[];
  refusals: string[];
}

export async function startGoogleAdsFake(o: { customerId: string; developerToken: string; token: string; batchSize?: number }): Promise<GoogleAdsFake> {
  const rows: GoogleCostRow[] = [];
  const refusals: string[] = [];
  const refuse = (status: number, message: string): FakeReply => {
    refusals.push(message);
    return { status, body: [{ error: { code: status, message, status: status === 401 ? 'UNAUTHENTICATED' : 'INVALID_ARGUMENT' } }] };
  };
  const handle = (req: FakeRequest): FakeReply => {
    if (req.method !== 'POST' || req.path !== `/v26/customers/${o.customerId}/googleAds:searchStream`)
      return refuse(404, `unexpected ${req.method} ${req.path}`);
    if (req.headers.authorization !== `Bearer ${o.token}`) return refuse(401, 'bad OAuth token');
    if (req.headers['developer-token'] !== o.developerToken) return refuse(401, 'bad developer-token');
    const query: string = jsonOf(req).query ?? '';
    for (const field of ['segments.date', 'campaign.name', 'metrics.cost_micros']) if (!query.includes(field)) return refuse(400, `query lacks ${field}`);
    const range = /segments\.date BETWEEN '(\d{4}-\d{2}-\d{2})' AND '(\d{4}-\d{2}-\d{2})'/.exec(query);
    if (!range) return refuse(400, 'query has no date range');
    const [, from, to] = range as unknown as [string, string, string];
    const results = rows
      .filter((r) => r.date >= from && r.date <= to)
      .map((r) => ({
        campaign: { resourceName: `customers/${o.customerId}/campaigns/${r.campaignId}`, id: r.campaignId, name: r.campaign },
        metrics: { clicks: String(r.clicks), impressions: String(r.impressions), costMicros: r.costMicros },
        segments: { date: r.date },
      }));
    const size = o.batchSize ?? 2;
    const batches = [];
    for (let i = 0; i < results.length; i += size)
      batches.push({
        results: results.slice(i, i + size),
        fieldMask: 'segments.date,campaign.id,campaign.name,metrics.clicks,metrics.impressions,metrics.costMicros',
        requestId: 'r1',
      });
    return { status: 200, body: batches.length > 0 ? batches : [{ fieldMask: 'segments.date', requestId: 'r1' }] };
  };
  const server = await startFakeServer(handle);
  return Object.assign(server, { rows, refusals });
}
