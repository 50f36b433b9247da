import { useEffect, useState } from 'react';
import { get, query } from '../api.tsx';
import { Empty, ErrorBox, Link, Loading, PageHeader, fmtDateTime } from '../ui.tsx';

/** Mirrors server/leads/lead-log.schemas.ts (LeadLogItem). */
interface Lead {
  kind: 'call' | 'form';
  id: string;
  at: string;
  phone: string | null;
  name: string | null;
  email: string | null;
  source: string | null;
  medium: string | null;
  campaign: string | null;
  keyword: string | null;
  status: string;
  firstTime: boolean | null;
  page: string | null;
  linkedId: string | null;
}
type Kind = 'all' | 'call' | 'form';
const KINDS: { value: Kind; label: string }[] = [
  { value: 'all', label: 'Calls and forms' },
  { value: 'call', label: 'Calls' },
  { value: 'form', label: 'Forms' },
];

/** Every lead, calls and web-form requests, newest first: what a marketer counts, whichever way the customer got in touch. */
export function LeadsPage() {
  const [kind, setKind] = useState<Kind>('all');
  const [items, setItems] = useState<Lead[] | undefined>();
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    setItems(undefined);
    get<{ items: Lead[]; nextCursor: string | null }>(`/v1/leads${query({ kind, limit: 50 })}`).then(
      (page) => {
        if (!live) return;
        setItems(page.items);
        setCursor(page.nextCursor);
        setError(undefined);
      },
      (err: Error) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [kind]);

  const more = async () => {
    if (!cursor) return;
    setBusy(true);
    try {
      const page = await get<{ items: Lead[]; nextCursor: string | null }>(`/v1/leads${query({ kind, limit: 50, cursor })}`);
      setItems((old) => [...(old ?? []), ...page.items]);
      setCursor(page.nextCursor);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="Leads" />
      <fieldset className="filters">
        <legend>Show</legend>
        {KINDS.map((k) => (
          <label key={k.value} className="inline">
            <input type="radio" name="lead-kind" value={k.value} checked={kind === k.value} onChange={() => setKind(k.value)} /> {k.label}
          </label>
        ))}
      </fieldset>
      <ErrorBox error={error} />
      {items === undefined && !error && <Loading what="Leads" />}
      {items?.length === 0 && <Empty>No leads yet.</Empty>}
      {items && items.length > 0 && (
        <div className="table-wrap">
          <table className="leads">
            <caption className="sr-only">Leads, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">Contact</th>
                <th scope="col">Source / medium</th>
                <th scope="col">Campaign · keyword</th>
                <th scope="col">Status</th>
                <th scope="col">Same lead</th>
              </tr>
            </thead>
            <tbody>
              {items.map((l) => (
                <tr key={`${l.kind}-${l.id}`} data-lead-kind={l.kind}>
                  <td>{l.kind === 'call' ? <Link to={`/calls/${l.id}`}>{fmtDateTime(l.at)}</Link> : fmtDateTime(l.at)}</td>
                  <td>{l.kind === 'call' ? 'Call' : 'Form'}</td>
                  <td>
                    {[l.name, l.phone, l.email].filter(Boolean).join(' · ') || '—'}
                    {l.firstTime && <span className="badge ok"> new</span>}
                  </td>
                  <td>{[l.source, l.medium].filter(Boolean).join(' / ') || '—'}</td>
                  <td>{[l.campaign, l.keyword].filter(Boolean).join(' · ') || '—'}</td>
                  <td>{l.status}</td>
                  <td>{l.linkedId ? l.kind === 'form' ? <Link to={`/calls/${l.linkedId}`}>the call</Link> : 'a form request' : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <button type="button" className="secondary" disabled={busy} onClick={() => void more()}>
          Load more
        </button>
      )}
    </>
  );
}
