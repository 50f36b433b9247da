import { useState } from 'react';
import { type CallSummary, get, query } from '../api.tsx';
import { BarChart, Funnel } from '../charts.tsx';
import { ErrorBox, Loading, PageHeader, Section, fmtDuration, fmtMoney, useAsync } from '../ui.tsx';

/** Mirrors server/analytics/reports.schemas.ts. */
interface Period {
  from: string;
  to: string;
  tz: string;
}
interface Counts {
  calls: number;
  answered: number;
  missed: number;
  firstTimeCallers: number;
  talkSeconds: number;
}
interface SourceRow extends Counts {
  kind: 'static' | 'visit' | 'none';
  sourceId: string | null;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  value: number;
  cost: number | null;
  currency: string | null;
  costBasis: 'prorated' | 'whole' | null;
  costPerCall: number | null;
  costPerAnsweredCall: number | null;
}
interface SourceReport {
  period: Period;
  items: SourceRow[];
  totals: Counts & { value: number };
}
interface DailyReport {
  period: Period;
  items: (Counts & { day: string })[];
}
interface FunnelReport {
  period: Period;
  visits: number | null;
  visitors: number | null;
  calls: number;
  visitCalls: number;
  answered: number;
  visitAnswered: number;
  visitToCallRate: number | null;
  answerRate: number | null;
}
const isoDay = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
const sourceLabel = (r: SourceRow) => r.source ?? (r.kind === 'none' ? 'Unattributed' : '(no source)');
const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);
const money = (v: number | null, currency: string | null) => (v === null ? '—' : fmtMoney(v, currency ?? 'RUB'));

/** Tags counted over the period's calls from the calls API (up to 2,000 calls), so manual tags show at once. */
async function tagCounts(from: string, to: string): Promise<{ tag: string; calls: number; answered: number }[]> {
  const counts = new Map<string, { calls: number; answered: number }>();
  let cursor: string | null = null;
  for (let pages = 0; pages < 4; pages++) {
    const page: { items: CallSummary[]; nextCursor: string | null } = await get(`/v1/calls${query({ from, to, limit: 500, cursor })}`);
    for (const c of page.items)
      for (const t of c.tags) {
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
  // Calendar days in the browser's time zone: the server buckets days in `tz`, and a `to` date includes that whole day.
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const q = query({ from: range.from, to: range.to, tz });
  const sources = useAsync(() => get<SourceReport>(`/v1/reports/sources${q}`), [q]);
  const daily = useAsync(() => get<DailyReport>(`/v1/reports/daily${q}`), [q]);
  const funnel = useAsync(() => get<FunnelReport>(`/v1/reports/funnel${q}`), [q]);
  // The calls API takes instants: local midnight of `from` up to local midnight after `to`.
  const fromIso = new Date(`${range.from}T00:00:00`).toISOString();
  const toIso = new Date(new Date(`${range.to}T00:00:00`).getTime() + 86_400_000).toISOString();
  const tags = useAsync(() => tagCounts(fromIso, toIso), [fromIso, toIso]);
  const f = funnel.data;

  return (
    <>
      <PageHeader title="Reports" />
      <form
        className="filters"
        aria-label="Report period"
        onSubmit={(e) => {
          e.preventDefault();
          setRange(draft);
        }}
      >
        <label>
          From
          <input type="date" required value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />
        </label>
        <label>
          To
          <input type="date" required value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
        </label>
        <div className="filter-actions">
          <button type="submit">Show</button>
        </div>
      </form>
      <p className="muted">Days in {tz}.</p>

      <section aria-labelledby="by-day-h" className="card">
        <h2 id="by-day-h">By day</h2>
        <Section state={daily} isEmpty={(d) => d.items.every((r) => r.calls === 0)} empty="No calls in this period.">
          {(d) => (
            <>
              <BarChart
                title="Calls per day"
                labels={d.items.map((r) => r.day)}
                series={[
                  { label: 'Answered', color: '#047857', values: d.items.map((r) => r.answered) },
                  { label: 'Missed', color: '#b91c1c', values: d.items.map((r) => r.missed) },
                ]}
              />
              <div className="table-wrap">
                <table className="daily-report">
                  <caption className="sr-only">Calls per day</caption>
                  <thead>
                    <tr>
                      <th scope="col">Day</th>
                      <th scope="col">Calls</th>
                      <th scope="col">Answered</th>
                      <th scope="col">Missed</th>
                      <th scope="col">First-time</th>
                      <th scope="col">Talk time</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items
                      .filter((r) => r.calls > 0)
                      .map((r) => (
                        <tr key={r.day} data-day={r.day}>
                          <td>{r.day}</td>
                          <td>{r.calls}</td>
                          <td>{r.answered}</td>
                          <td>{r.missed}</td>
                          <td>{r.firstTimeCallers}</td>
                          <td>{fmtDuration(r.talkSeconds)}</td>
                        </tr>
                      ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </Section>
      </section>

      <section aria-labelledby="by-source-h" className="card">
        <h2 id="by-source-h">By source / medium / campaign</h2>
        <Section state={sources} isEmpty={(d) => d.items.length === 0} empty="No calls in this period.">
          {(d) => (
            <>
              <BarChart
                title="Calls by source"
                labels={d.items.map(sourceLabel)}
                series={[
                  { label: 'Calls', color: '#1d4ed8', values: d.items.map((r) => r.calls) },
                  { label: 'Answered', color: '#047857', values: d.items.map((r) => r.answered) },
                ]}
              />
              <div className="table-wrap">
                <table className="source-report">
                  <caption className="sr-only">Calls by source</caption>
                  <thead>
                    <tr>
                      <th scope="col">Source</th>
                      <th scope="col">Medium</th>
                      <th scope="col">Campaign</th>
                      <th scope="col">Calls</th>
                      <th scope="col">Answered</th>
                      <th scope="col">Missed</th>
                      <th scope="col">First-time</th>
                      <th scope="col">Talk time</th>
                      <th scope="col">Cost</th>
                      <th scope="col">Cost per call</th>
                      <th scope="col">Cost per answered call</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((r, i) => (
                      <tr key={`${r.kind}-${r.sourceId ?? ''}-${r.source ?? ''}-${r.medium ?? ''}-${r.campaign ?? ''}-${i}`} data-source={r.source ?? ''}>
                        <td>
                          {sourceLabel(r)}
                          {r.kind === 'static' ? <span className="muted"> (static)</span> : null}
                        </td>
                        <td>{r.medium ?? '—'}</td>
                        <td>{r.campaign ?? '—'}</td>
                        <td className="calls">{r.calls}</td>
                        <td>{r.answered}</td>
                        <td>{r.missed}</td>
                        <td>{r.firstTimeCallers}</td>
                        <td>{fmtDuration(r.talkSeconds)}</td>
                        <td>
                          {money(r.cost, r.currency)}
                          {r.costBasis === 'prorated' ? <span className="muted"> (prorated)</span> : null}
                        </td>
                        <td>{money(r.costPerCall, r.currency)}</td>
                        <td>{money(r.costPerAnsweredCall, r.currency)}</td>
                      </tr>
                    ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row" colSpan={3}>
                        Total
                      </th>
                      <td className="calls">{d.totals.calls}</td>
                      <td>{d.totals.answered}</td>
                      <td>{d.totals.missed}</td>
                      <td>{d.totals.firstTimeCallers}</td>
                      <td>{fmtDuration(d.totals.talkSeconds)}</td>
                      <td colSpan={3} />
                    </tr>
                  </tfoot>
                </table>
              </div>
            </>
          )}
        </Section>
      </section>

      <section aria-labelledby="funnel-h" className="card">
        <h2 id="funnel-h">Funnel</h2>
        {f ? (
          <>
            <Funnel
              steps={
                f.visits === null
                  ? [
                      { label: 'Calls', value: f.calls },
                      { label: 'Answered', value: f.answered },
                    ]
                  : [
                      { label: 'Website visits', value: f.visits },
                      { label: 'Calls from the website', value: f.visitCalls },
                      { label: 'Answered', value: f.visitAnswered },
                    ]
              }
            />
            <dl className="facts funnel-facts">
              <div>
                <dt>Visitors</dt>
                <dd>{f.visitors ?? '—'}</dd>
              </div>
              <div>
                <dt>Visit to call rate</dt>
                <dd>{pct(f.visitToCallRate)}</dd>
              </div>
              <div>
                <dt>All calls</dt>
                <dd>{f.calls}</dd>
              </div>
              <div>
                <dt>Answered (all calls)</dt>
                <dd>
                  {f.answered} · {pct(f.answerRate)}
                </dd>
              </div>
            </dl>
          </>
        ) : funnel.error ? (
          <ErrorBox error={funnel.error} />
        ) : (
          <Loading />
        )}
      </section>

      <section aria-labelledby="tags-report-h" className="card">
        <h2 id="tags-report-h">By tag</h2>
        <Section state={tags} isEmpty={(d) => d.length === 0} empty="No tagged calls in this period.">
          {(d) => (
            <div className="table-wrap">
              <table className="tag-report">
                <caption className="sr-only">Calls by tag</caption>
                <thead>
                  <tr>
                    <th scope="col">Tag</th>
                    <th scope="col">Calls</th>
                    <th scope="col">Answered</th>
                  </tr>
                </thead>
                <tbody>
                  {d.map((r) => (
                    <tr key={r.tag}>
                      <td>
                        <span className="tag">{r.tag}</span>
                      </td>
                      <td>{r.calls}</td>
                      <td>{r.answered}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Section>
      </section>
    </>
  );
}
