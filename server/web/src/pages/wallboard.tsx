import { useEffect, useState } from 'react';
import { put } from '../api.tsx';
import { ErrorBox, PageHeader, fmtDuration, useSubmit } from '../ui.tsx';

/** Mirrors server/pbx/live-board.ts (LiveSnapshot) and queue-engine.ts (QueueBoard). */
interface LiveSnapshot {
  at: string;
  calls: Array<{
    callId: string;
    direction: string;
    caller: string;
    trackingNumber: string;
    startedAt: string;
    state: string;
    queue: string | null;
    agent: string | null;
    source?: string | null;
    campaign?: string | null;
    keyword?: string | null;
    landingPage?: string | null;
    firstTime?: boolean | null;
  }>;
  queues: Array<{
    name: string;
    waiting: Array<{ callId: string; caller: string; position: number; waitSeconds: number; announcedPosition: number | null }>;
    agents: Array<{ extension: string; state: 'available' | 'ringing' | 'busy' | 'wrap-up' | 'paused' | 'offline' }>;
  }>;
  today: { answered: number; abandoned: number; serviceLevel: number | null };
}

const STATE_BADGE: Record<string, string> = { available: 'ok', ringing: 'live', busy: 'live', 'wrap-up': 'new', paused: 'missed', offline: 'missed' };

/** The live wallboard: GET /v1/live as Server-Sent Events, redrawn on every change without reloading. */
export function WallboardPage() {
  const [snapshot, setSnapshot] = useState<LiveSnapshot | undefined>();
  const [connected, setConnected] = useState(false);
  const [, tick] = useState(0);
  const submit = useSubmit();
  useEffect(() => {
    const source = new EventSource('/v1/live');
    source.addEventListener('snapshot', (e) => {
      setSnapshot(JSON.parse((e as MessageEvent<string>).data) as LiveSnapshot);
      setConnected(true);
    });
    source.onerror = () => setConnected(false);
    // Call and wait times move every second between snapshots.
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => {
      source.close();
      clearInterval(timer);
    };
  }, []);
  const since = (iso: string) => fmtDuration(Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)));
  const waitedFor = (w: { waitSeconds: number }) => fmtDuration(w.waitSeconds + Math.max(0, Math.round((Date.now() - Date.parse(snapshot!.at)) / 1000)));
  return (
    <>
      <PageHeader title="Wallboard" />
      <p className="muted" aria-live="polite">
        {connected ? 'Live' : 'Connecting…'}
      </p>
      <ErrorBox error={submit.error} />
      {snapshot && (
        <>
          <section className="card" aria-labelledby="today-h">
            <h2 id="today-h">Queues today</h2>
            <dl className="figures">
              <dt>Answered</dt>
              <dd data-figure="answered">{snapshot.today.answered}</dd>
              <dt>Abandoned</dt>
              <dd data-figure="abandoned">{snapshot.today.abandoned}</dd>
              <dt>Service level</dt>
              <dd data-figure="service-level">{snapshot.today.serviceLevel === null ? '—' : `${Math.round(snapshot.today.serviceLevel * 100)} %`}</dd>
            </dl>
          </section>
          {snapshot.queues.map((q) => (
            <section key={q.name} className="card" aria-labelledby={`queue-${q.name}`}>
              <h2 id={`queue-${q.name}`}>Queue {q.name}</h2>
              <h3>Waiting ({q.waiting.length})</h3>
              {q.waiting.length === 0 ? (
                <p className="muted">Nobody is waiting.</p>
              ) : (
                <ol className="waiting">
                  {q.waiting.map((w) => (
                    <li key={w.callId}>
                      {w.caller} · waiting {waitedFor(w)}
                    </li>
                  ))}
                </ol>
              )}
              <h3>Agents</h3>
              <table className="agents">
                <caption className="sr-only">Agents of queue {q.name}</caption>
                <thead>
                  <tr>
                    <th scope="col">Extension</th>
                    <th scope="col">State</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {q.agents.map((a) => (
                    <tr key={a.extension}>
                      <td>{a.extension}</td>
                      <td>
                        <span className={`badge ${STATE_BADGE[a.state] ?? ''}`}>{a.state}</span>
                      </td>
                      <td>
                        <button
                          type="button"
                          className="secondary small"
                          disabled={submit.busy}
                          onClick={() =>
                            void submit.run(() => put(`/v1/agents/${a.extension}/status`, { status: a.state === 'paused' ? 'available' : 'paused' }))
                          }
                        >
                          {a.state === 'paused' ? `Resume ${a.extension}` : `Pause ${a.extension}`}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ))}
          <section className="card" aria-labelledby="live-calls-h">
            <h2 id="live-calls-h">Calls now ({snapshot.calls.length})</h2>
            {snapshot.calls.length === 0 ? (
              <p className="muted">No calls in progress.</p>
            ) : (
              <table className="live-calls">
                <caption className="sr-only">Calls in progress</caption>
                <thead>
                  <tr>
                    <th scope="col">Caller</th>
                    <th scope="col">Number</th>
                    <th scope="col">From</th>
                    <th scope="col">State</th>
                    <th scope="col">With</th>
                    <th scope="col">For</th>
                  </tr>
                </thead>
                <tbody>
                  {snapshot.calls.map((c) => (
                    <tr key={c.callId}>
                      <td>
                        {c.caller}
                        {c.firstTime ? <span className="badge new">first call</span> : null}
                      </td>
                      <td>{c.trackingNumber}</td>
                      <td title={c.landingPage ?? undefined}>{[c.source, c.campaign, c.keyword].filter(Boolean).join(' · ') || '—'}</td>
                      <td>{c.state === 'queued' ? `in queue ${c.queue}` : c.state}</td>
                      <td>{c.agent ?? '—'}</td>
                      <td>{since(c.startedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      )}
    </>
  );
}
