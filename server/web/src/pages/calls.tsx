import { useEffect, useState } from 'react';
import { type CallSummary, get, query } from '../api.tsx';
import { Empty, ErrorBox, Link, Loading, PageHeader, fmtDateTime, fmtDuration } from '../ui.tsx';

interface Filters {
  from: string;
  to: string;
  source: string;
  campaign: string;
  tag: string;
  status: string;
  number: string;
  caller: string;
}
const NO_FILTERS: Filters = { from: '', to: '', source: '', campaign: '', tag: '', status: '', number: '', caller: '' };
const STATUSES = ['answered', 'missed', 'busy', 'no-answer', 'cancelled', 'failed', 'voicemail'];

const toApi = (f: Filters) => ({
  ...f,
  // <input type="date"> gives a local day; the API wants instants: from = start of day, to = start of the next day.
  from: f.from ? new Date(`${f.from}T00:00:00`).toISOString() : '',
  to: f.to ? new Date(new Date(`${f.to}T00:00:00`).getTime() + 86_400_000).toISOString() : '',
});

export const isMissed = (c: CallSummary) => c.endedAt !== null && c.disposition !== 'answered';

export function CallBadge({ call }: { call: CallSummary }) {
  if (call.endedAt === null) return <span className="badge live">In progress</span>;
  if (isMissed(call)) return <span className="badge missed">Missed · {call.disposition ?? 'unknown'}</span>;
  return <span className="badge ok">Answered</span>;
}

export function CallsPage() {
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [items, setItems] = useState<CallSummary[] | undefined>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<Error | undefined>();
  const [moreBusy, setMoreBusy] = useState(false);
  const [refreshedAt, setRefreshedAt] = useState<Date | undefined>();

  // First page, refreshed by polling: fast while a call is in progress, slow otherwise.
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setItems(undefined);
    const load = async () => {
      try {
        const page = await get<{ items: CallSummary[]; nextCursor: string | null }>(`/v1/calls${query({ ...toApi(filters), limit: 50 })}`);
        if (!live) return;
        setItems((old) => {
          // Keep pages already loaded with "Load more" below the refreshed first page.
          const fresh = new Set(page.items.map((c) => c.id));
          return [...page.items, ...(old ?? []).slice(page.items.length).filter((c) => !fresh.has(c.id))];
        });
        setCursor((old) => old ?? page.nextCursor);
        setError(undefined);
        setRefreshedAt(new Date());
        const inProgress = page.items.some((c) => c.endedAt === null);
        timer = setTimeout(() => void load(), inProgress ? 3_000 : 15_000);
      } catch (err) {
        if (!live) return;
        setError(err as Error);
        timer = setTimeout(() => void load(), 15_000);
      }
    };
    setCursor(null);
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [filters]);

  const loadMore = async () => {
    if (!cursor) return;
    setMoreBusy(true);
    try {
      const page = await get<{ items: CallSummary[]; nextCursor: string | null }>(`/v1/calls${query({ ...toApi(filters), limit: 50, cursor })}`);
      setItems((old) => [...(old ?? []), ...page.items]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err as Error);
    } finally {
      setMoreBusy(false);
    }
  };

  const field = (name: keyof Filters, label: string, type = 'text') => (
    <label>
      {label}
      <input type={type} name={name} value={draft[name]} onChange={(e) => setDraft({ ...draft, [name]: e.target.value })} />
    </label>
  );

  return (
    <>
      <PageHeader title="Calls">
        <a className="button secondary" href={`/v1/calls/export.csv${query(toApi(filters))}`} download="calls.csv">
          Export CSV
        </a>
      </PageHeader>
      <form
        className="filters"
        aria-label="Filter calls"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters(draft);
        }}
      >
        {field('from', 'From', 'date')}
        {field('to', 'To', 'date')}
        {field('source', 'Source')}
        {field('campaign', 'Campaign')}
        {field('tag', 'Tag')}
        <label>
          Status
          <select name="status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
            <option value="">Any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {field('number', 'Tracking number', 'search')}
        {field('caller', 'Caller', 'search')}
        <div className="filter-actions">
          <button type="submit">Apply</button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setDraft(NO_FILTERS);
              setFilters(NO_FILTERS);
            }}
          >
            Reset
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {items === undefined ? (
        error ? null : (
          <Loading what="Loading calls" />
        )
      ) : items.length === 0 ? (
        <Empty>No calls match these filters yet. Calls appear here as soon as they arrive.</Empty>
      ) : (
        <>
          <p className="muted" aria-live="polite">
            {items.length} calls shown{refreshedAt ? ` · updated ${refreshedAt.toLocaleTimeString()}` : ''}
          </p>
          <div className="table-wrap">
            <table className="calls">
              <caption className="sr-only">Calls, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Caller</th>
                  <th scope="col">Number</th>
                  <th scope="col">Status</th>
                  <th scope="col">Talk</th>
                  <th scope="col">Source</th>
                  <th scope="col">Campaign</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Rec.</th>
                </tr>
              </thead>
              <tbody>
                {items.map((c) => (
                  <tr key={c.id} className={isMissed(c) ? 'missed' : c.endedAt === null ? 'live' : undefined} data-call-id={c.id}>
                    <td>
                      <Link to={`/calls/${c.id}`}>{fmtDateTime(c.startedAt)}</Link>
                    </td>
                    <td>
                      <Link to={`/calls/${c.id}`}>{c.caller}</Link>
                      {c.firstTime ? <span className="badge new">first call</span> : null}
                    </td>
                    <td>{c.trackingNumber}</td>
                    <td>
                      <CallBadge call={c} />
                    </td>
                    <td>{fmtDuration(c.talkSeconds)}</td>
                    <td>{c.source ?? '—'}</td>
                    <td>{c.campaign ?? '—'}</td>
                    <td>
                      {c.tags.map((t) => (
                        <span key={t} className="tag">
                          {t}
                        </span>
                      ))}
                    </td>
                    <td>
                      {c.hasRecording ? (
                        <span role="img" aria-label="has recording" title="has recording">
                          ●
                        </span>
                      ) : (
                        ''
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {cursor && (
            <button type="button" className="secondary" disabled={moreBusy} onClick={() => void loadMore()}>
              {moreBusy ? 'Loading…' : 'Load more'}
            </button>
          )}
        </>
      )}
    </>
  );
}
