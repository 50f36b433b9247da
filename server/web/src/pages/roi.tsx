import { useMemo, useState } from 'react';
import { get, query } from '../api.tsx';
import { PageHeader, Section, useAsync } from '../ui.tsx';
import { RomiChart } from '../charts.tsx';

/** Mirrors server/analytics/roi.schemas.ts (money in minor units of `currency`). */
interface Figures {
  visits: number;
  calls: number;
  forms: number;
  leads: number;
  qualified: number;
  won: number;
  revenue: number;
  cost: number;
  cpl: number | null;
  cpa: number | null;
  romi: number | null;
  ltv: number | null;
}
interface RoiRow extends Figures {
  kind: 'static' | 'online' | 'none';
  source: string | null;
  medium: string | null;
  campaign: string | null;
  keyword: string | null;
}
interface RoiReport {
  currency: string;
  items: RoiRow[];
  totals: Figures;
  missingRates: { currency: string; day: string }[];
}

type Column = keyof Figures;
const COLUMNS: { key: Column; label: string; money?: boolean }[] = [
  { key: 'visits', label: 'Visits' },
  { key: 'calls', label: 'Calls' },
  { key: 'forms', label: 'Forms' },
  { key: 'leads', label: 'Leads' },
  { key: 'qualified', label: 'Qualified' },
  { key: 'won', label: 'Won' },
  { key: 'revenue', label: 'Revenue', money: true },
  { key: 'cost', label: 'Cost', money: true },
  { key: 'cpl', label: 'CPL', money: true },
  { key: 'cpa', label: 'CPA', money: true },
  { key: 'romi', label: 'ROMI' },
  { key: 'ltv', label: 'LTV', money: true },
];

const isoDay = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
const digitsOf = (currency: string) => new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
/** Minor units shown as money; the division is for display only (sums come exact from the server). */
const money = (minor: number | null, currency: string) =>
  minor === null ? '—' : new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(minor / 10 ** digitsOf(currency));
const cell = (row: Figures, column: (typeof COLUMNS)[number], currency: string) => {
  const value = row[column.key];
  if (column.money) return money(value, currency);
  if (column.key === 'romi') return value === null ? '—' : `${Math.round(value * 1000) / 10}%`;
  return String(value);
};
const label = (r: RoiRow) => [r.source ?? (r.kind === 'none' ? 'Unattributed' : '—'), r.medium, r.campaign, r.keyword].filter((v) => v !== null).join(' / ');

function csvOf(report: RoiReport): string {
  const quote = (v: string | number | null) => {
    const s = v === null ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const head = ['kind', 'source', 'medium', 'campaign', 'keyword', ...COLUMNS.map((c) => c.key), 'currency'];
  const lines = report.items.map((r) =>
    [r.kind, r.source, r.medium, r.campaign, r.keyword, ...COLUMNS.map((c) => r[c.key]), report.currency].map(quote).join(','),
  );
  return `${[head.join(','), ...lines].join('\n')}\n`;
}

/** Money per channel: a sortable table with totals and a CSV export, in the browser's time zone. */
export function RoiPage() {
  const today = new Date();
  const [from, setFrom] = useState(isoDay(new Date(today.getTime() - 29 * 86_400_000)));
  const [to, setTo] = useState(isoDay(today));
  const [groupBy, setGroupBy] = useState('campaign');
  const [model, setModel] = useState('last');
  const [sort, setSort] = useState<{ key: Column; desc: boolean }>({ key: 'revenue', desc: true });
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const report = useAsync(() => get<RoiReport>(`/v1/reports/roi${query({ from, to, tz, groupBy, model })}`), [from, to, tz, groupBy, model]);
  const rows = useMemo(() => {
    const items = [...(report.data?.items ?? [])];
    return items.sort((a, b) => ((a[sort.key] ?? -Infinity) - (b[sort.key] ?? -Infinity)) * (sort.desc ? -1 : 1));
  }, [report.data, sort]);

  const exportCsv = (data: RoiReport) => {
    const url = URL.createObjectURL(new Blob([csvOf(data)], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `roi-${from}-${to}-${groupBy}-${model}.csv`;
    link.click();
    URL.revokeObjectURL(url);
  };

  return (
    <>
      <PageHeader title="ROI" />
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          From <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          To <input type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <label>
          Group by{' '}
          <select value={groupBy} onChange={(e) => setGroupBy(e.target.value)}>
            <option value="source">Source</option>
            <option value="medium">Source / medium</option>
            <option value="campaign">Campaign</option>
            <option value="keyword">Keyword</option>
          </select>
        </label>
        <label>
          Attribution{' '}
          <select value={model} onChange={(e) => setModel(e.target.value)}>
            <option value="last">Last non-direct touch</option>
            <option value="first">First touch</option>
            <option value="linear">Linear</option>
          </select>
        </label>
      </form>
      <Section state={report} isEmpty={(d) => d.items.length === 0} empty="Nothing in this period.">
        {(d) => (
          <>
            {d.missingRates.length > 0 && (
              <p className="error" role="status">
                No rate into {d.currency} for {d.missingRates.map((m) => `${m.currency} ${m.day}`).join(', ')}: those amounts are left out.
              </p>
            )}
            <RomiChart
              rows={d.items
                .filter((r): r is RoiRow & { romi: number } => r.romi !== null)
                .sort((a, b) => b.cost - a.cost)
                .slice(0, 12)
                .map((r) => ({ label: label(r), romi: r.romi }))}
            />
            <button type="button" className="secondary" onClick={() => exportCsv(d)}>
              Export CSV
            </button>
            <div className="table-wrap">
              <table className="roi-report">
                <caption>
                  ROI by {groupBy}, {model} model, {d.currency}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Channel</th>
                    {COLUMNS.map((c) => (
                      <th key={c.key} scope="col" aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                        <button type="button" className="link" onClick={() => setSort({ key: c.key, desc: sort.key === c.key ? !sort.desc : true })}>
                          {c.label}
                        </button>
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={`${r.kind}|${label(r)}`}>
                      <th scope="row">{label(r)}</th>
                      {COLUMNS.map((c) => (
                        <td key={c.key}>{cell(r, c, d.currency)}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr>
                    <th scope="row">Total</th>
                    {COLUMNS.map((c) => (
                      <td key={c.key}>{cell(d.totals, c, d.currency)}</td>
                    ))}
                  </tr>
                </tfoot>
              </table>
            </div>
          </>
        )}
      </Section>
    </>
  );
}
