import { useState } from 'react';
import { type CallSummary, get, query } from '../api.tsx';
import { BarChart, Funnel } from '../charts.tsx';
import { Empty, ErrorBox, Loading, PageHeader, Section, fmtDuration, fmtMoney, useAsync } from '../ui.tsx';

type Row = Record<string, unknown>;
const num = (r: Row, ...keys: string[]) => { for (const k of keys) if (typeof r[k] === 'number') return r[k] as number; return 0; };
const str = (r: Row, ...keys: string[]) => { for (const k of keys) if (typeof r[k] === 'string' && r[k]) return r[k] as string; return '—'; };
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** Tags counted over the period's calls from the calls API (up to 2,000 calls), so manual tags show at once. */
async function tagCounts(from: string, to: string): Promise<{ tag: string; calls: number; answered: number }[]> {
  const counts = new Map<string, { calls: number; answered: number }>();
  let cursor: string | null = null;
  for (let pages = 0; pages < 4; pages++) {
    const page: { items: CallSummary[]; nextCursor: string | null } = await get(`/v1/calls${query({ from, to, limit: 500, cursor })}`);
    for (const c of page.items) for (const t of c.tags) {
      const e = counts.get(t) ?? { calls: 0, answered: 0 };
      e.calls++;
      if (c.disposition === 'answered') e.answered++;
      counts.set(t, e);
    }
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return [...counts].map(([tag, v]) => ({ tag, ...v })).sort((a, b) => b.calls - a.calls);
}

export function ReportsPage() {
  const today = new Date();
  const [range, setRange] = useState({ from: isoDay(new Date(today.getTime() - 29 * 86_400_000)), to: isoDay(today) });
  const [draft, setDraft] = useState(range);
  const from = new Date(`${range.from}T00:00:00`).toISOString();
  const to = new Date(new Date(`${range.to}T00:00:00`).getTime() + 86_400_000).toISOString();
  const q = query({ from, to });
  const sources = useAsync(() => get<{ items: Row[] }>(`/v1/reports/sources${q}`), [q]);
  const daily = useAsync(() => get<{ items: Row[] }>(`/v1/reports/daily${q}`), [q]);
  const funnel = useAsync(() => get<Row>(`/v1/reports/funnel${q}`), [q]);
  const tags = useAsync(() => tagCounts(from, to), [q]);

  return (
    <>
      <PageHeader title="Reports" />
      <form className="filters" aria-label="Report period" onSubmit={(e) => { e.preventDefault(); setRange(draft); }}>
        <label>From<input type="date" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} /></label>
        <label>To<input type="date" value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} /></label>
        <div className="filter-actions"><button type="submit">Show</button></div>
      </form>

      <section aria-labelledby="by-day-h" className="card">
        <h2 id="by-day-h">By day</h2>
        <Section state={daily} isEmpty={(d) => d.items.length === 0} empty="No calls in this period.">
          {(d) => <>
            <BarChart title="Calls per day" labels={d.items.map((r) => str(r, 'day', 'date').slice(0, 10))} series={[
              { label: 'Answered', color: '#047857', values: d.items.map((r) => num(r, 'answered')) },
              { label: 'Missed', color: '#b91c1c', values: d.items.map((r) => num(r, 'missed')) },
            ]} />
            <div className="table-wrap"><table><caption className="sr-only">Calls per day</caption>
              <thead><tr><th scope="col">Day</th><th scope="col">Calls</th><th scope="col">Answered</th><th scope="col">Missed</th><th scope="col">First-time</th><th scope="col">Talk time</th></tr></thead>
              <tbody>{d.items.map((r, i) => <tr key={i}><td>{str(r, 'day', 'date').slice(0, 10)}</td><td>{num(r, 'calls')}</td><td>{num(r, 'answered')}</td><td>{num(r, 'missed')}</td><td>{num(r, 'firstTime', 'firstTimeCallers')}</td><td>{fmtDuration(num(r, 'talkSeconds'))}</td></tr>)}</tbody>
            </table></div>
          </>}
        </Section>
      </section>

      <section aria-labelledby="by-source-h" className="card">
        <h2 id="by-source-h">By source / medium / campaign</h2>
        <Section state={sources} isEmpty={(d) => d.items.length === 0} empty="No attributed calls in this period.">
          {(d) => <>
            <BarChart title="Calls by source" labels={d.items.map((r) => str(r, 'source'))} series={[
              { label: 'Calls', color: '#1d4ed8', values: d.items.map((r) => num(r, 'calls')) },
              { label: 'Answered', color: '#047857', values: d.items.map((r) => num(r, 'answered')) },
            ]} />
            <div className="table-wrap"><table><caption className="sr-only">Calls by source</caption>
              <thead><tr><th scope="col">Source</th><th scope="col">Medium</th><th scope="col">Campaign</th><th scope="col">Calls</th><th scope="col">Answered</th><th scope="col">Missed</th><th scope="col">First-time</th><th scope="col">Talk time</th><th scope="col">Cost per call</th></tr></thead>
              <tbody>{d.items.map((r, i) => <tr key={i}><td>{str(r, 'source')}</td><td>{str(r, 'medium')}</td><td>{str(r, 'campaign')}</td><td>{num(r, 'calls')}</td><td>{num(r, 'answered')}</td><td>{num(r, 'missed')}</td><td>{num(r, 'firstTime', 'firstTimeCallers')}</td><td>{fmtDuration(num(r, 'talkSeconds'))}</td><td>{typeof r.costPerCall === 'number' ? fmtMoney(r.costPerCall, typeof r.currency === 'string' ? r.currency : 'RUB') : '—'}</td></tr>)}</tbody>
            </table></div>
          </>}
        </Section>
      </section>

      <section aria-labelledby="funnel-h" className="card">
        <h2 id="funnel-h">Funnel</h2>
        {funnel.data ? <Funnel steps={[
          { label: 'Visits', value: num(funnel.data, 'visits', 'sessions') },
          { label: 'Calls', value: num(funnel.data, 'calls') },
          { label: 'Answered', value: num(funnel.data, 'answered') },
        ]} /> : funnel.error ? <ErrorBox error={funnel.error} /> : <Loading />}
      </section>

      <section aria-labelledby="tags-report-h" className="card">
        <h2 id="tags-report-h">By tag</h2>
        <Section state={tags} isEmpty={(d) => d.length === 0} empty="No tagged calls in this period.">
          {(d) => (
            <div className="table-wrap"><table className="tag-report"><caption className="sr-only">Calls by tag</caption>
              <thead><tr><th scope="col">Tag</th><th scope="col">Calls</th><th scope="col">Answered</th></tr></thead>
              <tbody>{d.map((r) => <tr key={r.tag}><td><span className="tag">{r.tag}</span></td><td>{r.calls}</td><td>{r.answered}</td></tr>)}</tbody>
            </table></div>
          )}
        </Section>
      </section>
      {!sources.data && !daily.data && sources.error && daily.error && <Empty>Reports need the analytics part of the server.</Empty>}
    </>
  );
}
