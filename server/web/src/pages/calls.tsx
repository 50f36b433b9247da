import { useEffect, useState } from 'react';
import { type CallSummary, get, post, query } from '../api.tsx';
import { useRole } from '../app.tsx';
import { Empty, ErrorBox, Link, Loading, PageHeader, fmtDateTime, fmtDuration, useSubmit } from '../ui.tsx';

interface Filters {
  from: string;
  to: string;
  source: string;
  campaign: string;
  tag: string;
  status: string;
  number: string;
  caller: string;
  direction: string;
}
const NO_FILTERS: Filters = { from: '', to: '', source: '', campaign: '', tag: '', status: '', number: '', caller: '', direction: '' };
const DIRECTIONS = { inbound: 'Tracked (inbound)', outbound: 'Outbound', internal: 'Internal' } as const;
const CALLBACK_EXTENSION_KEY = 'callbackExtension';
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

/**
 * Missed calls get "Call back": the manager's extension rings first, then the customer, shown the
 * number they called. The extension is chosen once and remembered in this browser.
 */
function CallbackBar({ extension, onChange }: { extension: string; onChange(extension: string): void }) {
  const [extensions, setExtensions] = useState<Array<{ extension: string; name: string }> | undefined>();
  useEffect(() => {
    get<{ items: Array<{ extension: string; name: string }> }>('/v1/extensions')
      .then((r) => setExtensions(r.items))
      .catch(() => setExtensions([]));
  }, []);
  if (!extensions || extensions.length === 0) return null;
  return (
    <label className="callback-from">
      Call back from extension
      <select name="callbackExtension" value={extension} onChange={(e) => onChange(e.target.value)}>
        <option value="">Choose…</option>
        {extensions.map((x) => (
          <option key={x.extension} value={x.extension}>
            {x.extension} · {x.name}
          </option>
        ))}
      </select>
    </label>
  );
}

function CallBackButton({ call, extension }: { call: CallSummary; extension: string }) {
  const { busy, error, run } = useSubmit();
  const [placed, setPlaced] = useState(false);
  if (placed) return <span className="muted">Ringing {extension}…</span>;
  return (
    <>
      <button
        type="button"
        className="secondary small"
        disabled={busy || !extension}
        title={extension ? `Ring extension ${extension}, then ${call.caller}` : 'Choose your extension above first'}
        onClick={() =>
          void run(async () => {
            await post('/v1/calls/originate', { extension, callbackOf: call.id });
            setPlaced(true);
          })
        }
      >
        Call back
      </button>
      {error && (
        <span className="error" role="alert">
          {error.message}
        </span>
      )}
    </>
  );
}

export function CallsPage() {
  const role = useRole();
  const canCallBack = role === 'admin' || role === 'manager';
  const [callbackExtension, setCallbackExtension] = useState(() => localStorage.getItem(CALLBACK_EXTENSION_KEY) ?? '');
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
        <label>
          Direction
          <select name="direction" value={draft.direction} onChange={(e) => setDraft({ ...draft, direction: e.target.value })}>
            <option value="">Any</option>
            {Object.entries(DIRECTIONS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
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
      {canCallBack && (
        <CallbackBar
          extension={callbackExtension}
          onChange={(extension) => {
            setCallbackExtension(extension);
            localStorage.setItem(CALLBACK_EXTENSION_KEY, extension);
          }}
        />
      )}
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
                      {c.direction !== 'inbound' ? <span className="badge">{c.direction}</span> : null}
                      {c.callbackOf ? <span className="badge">callback</span> : null}
                      {c.firstTime ? <span className="badge new">first call</span> : null}
                    </td>
                    <td>{c.direction === 'inbound' ? c.trackingNumber : `→ ${c.callee ?? '—'}`}</td>
                    <td>
                      <CallBadge call={c} />
                      {canCallBack && c.direction === 'inbound' && isMissed(c) ? <CallBackButton call={c} extension={callbackExtension} /> : null}
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
