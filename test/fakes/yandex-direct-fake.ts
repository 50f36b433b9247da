/**
 * Yandex Direct Reports API v5 fake (contracts.md): checks the auth and mode headers and the report
 * spec, answers 201 then 202 (with retryIn) for a new ReportName before 200 with the TSV, and 400
 * for a spec it would refuse. Costs per (date, campaign, criterion) are set by the test.
 */
import { type FakeReply, type FakeRequest, type FakeServer, jsonOf, startFakeServer } from './fake-http.js';

export interface DirectCostRow {
  date: string;
  campaignId: number;
  campaign: string;
  criterion: string;
  clicks: number;
  impressions: number;
  /** As Direct prints it with returnMoneyInMicros: false, e.g. "1234.56". */
  cost: string;
}

export interface YandexDirectFake extends FakeServer {
  rows: DirectCostRow[];
  /** Reports answered with 200 (TSV), and every refusal. */
  served: Array<{ from: string; to: string }>;
  refusals: string[];
}

const REQUIRED_FIELDS = ['Date', 'CampaignName', 'Cost'];
/** How each report field prints a row. */
const CELLS = new Map<string, (r: DirectCostRow) => string>([
  ['Date', (r) => r.date],
  ['CampaignId', (r) => String(r.campaignId)],
  ['CampaignName', (r) => r.campaign],
  ['Criterion', (r) => r.criterion],
  ['Clicks', (r) => String(r.clicks)],
  ['Impressions', (r) => String(r.impressions)],
  ['Cost', (r) => r.cost],
]);

export async function startYandexDirectFake(o: { token: string; retryIn?: number; pollsBeforeReady?: number }): Promise<YandexDirectFake> {
  const rows: DirectCostRow[] = [];
  const served: Array<{ from: string; to: string }> = [];
  const refusals: string[] = [];
  const polls = new Map<string, number>();
  const refuse = (status: number, message: string): FakeReply => {
    refusals.push(message);
    return { status, body: { error: { error_code: status === 400 ? 4000 : 53, error_string: message, request_id: '1' } } };
  };
  const handle = (req: FakeRequest): FakeReply => {
    if (req.method !== 'POST' || req.path !== '/json/v5/reports') return refuse(404, `unexpected ${req.method} ${req.path}`);
    if (req.headers.authorization !== `Bearer ${o.token}`) return refuse(403, 'bad OAuth token');
    for (const [header, value] of [
      ['processingmode', 'auto'],
      ['returnmoneyinmicros', 'false'],
      ['skipreportheader', 'true'],
      ['skipreportsummary', 'true'],
    ] as const)
      if (req.headers[header] !== value) return refuse(400, `header ${header} must be ${value}`);
    const spec = jsonOf(req).params ?? {};
    const from = spec.SelectionCriteria?.DateFrom;
    const to = spec.SelectionCriteria?.DateTo;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(from ?? '') || !/^\d{4}-\d{2}-\d{2}$/.test(to ?? '') || to < from) return refuse(400, 'bad SelectionCriteria');
    if (spec.ReportType !== 'CUSTOM_REPORT' || spec.DateRangeType !== 'CUSTOM_DATE' || spec.Format !== 'TSV' || !spec.ReportName)
      return refuse(400, 'bad report spec');
    const fields: string[] = spec.FieldNames ?? [];
    if (!REQUIRED_FIELDS.every((f) => fields.includes(f))) return refuse(400, 'FieldNames lack Date, CampaignName or Cost');
    // Offline mode: a new report is queued (201), then being built (202), then ready (200).
    const seen = polls.get(spec.ReportName) ?? 0;
    polls.set(spec.ReportName, seen + 1);
    const wait = o.pollsBeforeReady ?? 2;
    if (seen < wait) return { status: seen === 0 ? 201 : 202, headers: { retryIn: String(o.retryIn ?? 1), reportsInQueue: '1' }, body: '' };
    polls.delete(spec.ReportName);
    served.push({ from, to });
    const lines = rows.filter((r) => r.date >= from && r.date <= to).map((r) => fields.map((f) => CELLS.get(f)?.(r) ?? '--').join('\t'));
    return { status: 200, headers: { 'content-type': 'text/tab-separated-values; charset=utf-8' }, body: `${[fields.join('\t'), ...lines].join('\n')}\n` };
  };
  const server = await startFakeServer(handle);
  return Object.assign(server, { rows, served, refusals });
}
