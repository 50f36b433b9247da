import { useState } from 'react';
import { type CallDetail, can, del, get, post, put } from '../api.tsx';
import { useRole } from '../app.tsx';
import { ErrorBox, Link, Loading, PageHeader, earlierCalls, fmtDateTime, fmtDuration, useAsync, useSubmit } from '../ui.tsx';
import { WaveformPlayer } from '../waveform.tsx';
import { CallBadge } from './calls.tsx';

function Recording({ call, onListened }: { call: CallDetail; onListened: () => void }) {
  const link = useAsync(() => get<{ url: string }>(`/v1/calls/${call.id}/recording-url`), [call.id]);
  if (!call.recording) {
    const why = {
      none: 'This call was not recorded.',
      pending: 'The recording is still being processed.',
      failed: 'The recording could not be processed.',
      ready: 'No recording for this call.',
    };
    return <p className="muted">{why[call.recordingStatus]}</p>;
  }
  if (link.error) return <ErrorBox error={link.error} />;
  if (!link.data) return <Loading what="Preparing the recording" />;
  return (
    <WaveformPlayer
      src={link.data.url}
      fallbackSrc={`${link.data.url}&format=wav`}
      durationSeconds={call.recording.durationSeconds}
      onFirstPlay={() => void post(`/v1/calls/${call.id}/listens`).then(onListened, () => undefined)}
    />
  );
}

function Tags({ call, onChange }: { call: CallDetail; onChange: () => void }) {
  const role = useRole();
  const [tag, setTag] = useState('');
  const submit = useSubmit();
  return (
    <section aria-labelledby="tags-h">
      <h2 id="tags-h">Tags</h2>
      {call.tags.length === 0 ? (
        <p className="muted">No tags yet.</p>
      ) : (
        <ul className="tags">
          {call.tags.map((t) => (
            <li key={t} className="tag">
              {t}
              {can.tag(role) && (
                <button
                  type="button"
                  className="icon"
                  aria-label={`Remove tag ${t}`}
                  onClick={() =>
                    void submit.run(async () => {
                      await del(`/v1/calls/${call.id}/tags/${encodeURIComponent(t)}`);
                      onChange();
                    })
                  }
                >
                  ×
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {can.tag(role) && (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              await post(`/v1/calls/${call.id}/tags`, { tags: [tag.trim()] });
              setTag('');
              onChange();
            });
          }}
        >
          <label>
            New tag
            <input name="tag" value={tag} maxLength={64} required onChange={(e) => setTag(e.target.value)} />
          </label>
          <button type="submit" disabled={submit.busy}>
            Add tag
          </button>
        </form>
      )}
      <ErrorBox error={submit.error} />
    </section>
  );
}

function Notes({ call, onChange }: { call: CallDetail; onChange: () => void }) {
  const role = useRole();
  const [text, setText] = useState('');
  const submit = useSubmit();
  return (
    <section aria-labelledby="notes-h">
      <h2 id="notes-h">Notes</h2>
      {call.notes.length === 0 ? (
        <p className="muted">No notes yet.</p>
      ) : (
        <ul className="notes">
          {call.notes.map((n) => (
            <li key={n.id}>
              <p>{n.text}</p>
              <small>
                {n.author} · {fmtDateTime(n.createdAt)}
              </small>
            </li>
          ))}
        </ul>
      )}
      {can.note(role) && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              await post(`/v1/calls/${call.id}/notes`, { text });
              setText('');
              onChange();
            });
          }}
        >
          <label>
            Add a note
            <textarea name="note" rows={3} required value={text} onChange={(e) => setText(e.target.value)} />
          </label>
          <button type="submit" disabled={submit.busy}>
            Save note
          </button>
        </form>
      )}
      <ErrorBox error={submit.error} />
    </section>
  );
}

function Score({ call, onChange }: { call: CallDetail; onChange: () => void }) {
  const role = useRole();
  const [score, setScore] = useState(call.score === null ? '' : String(call.score));
  const submit = useSubmit();
  return (
    <section aria-labelledby="score-h">
      <h2 id="score-h">Score</h2>
      {can.score(role) ? (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              await put(`/v1/calls/${call.id}/score`, { score: score === '' ? null : Number(score) });
              onChange();
            });
          }}
        >
          <label>
            Score (0–100)
            <input type="number" name="score" min={0} max={100} value={score} onChange={(e) => setScore(e.target.value)} />
          </label>
          <button type="submit" disabled={submit.busy}>
            Save score
          </button>
        </form>
      ) : (
        <p>{call.score ?? 'Not scored'}</p>
      )}
      <ErrorBox error={submit.error} />
    </section>
  );
}

const CONFIDENCE: Record<CallDetail['attribution']['confidence'], string> = {
  exact: 'Exact (one website session held this number)',
  ambiguous: 'Ambiguous (several sessions could have placed the call)',
  static: 'Static source (the number belongs to a source)',
  none: 'Not attributed',
};

function Journey({ call }: { call: CallDetail }) {
  const a = call.attribution;
  const rows: [string, string | null][] = [
    ['Source', a.source],
    ['Medium', a.medium],
    ['Campaign', a.campaign],
    ['Keyword', a.keyword],
    ['Landing page', a.landingPage],
    ['Referrer', a.referrer],
    ['Confidence', `${CONFIDENCE[a.confidence]}${a.reason ? ` — ${a.reason}` : ''}`],
    ['Visitor session', a.sessionId],
  ];
  // Ad click ids and analytics client ids: what the CRM / GA4 / Metrica sinks forward.
  const ids = (
    [
      ['Google click id (gclid)', a.gclid],
      ['Yandex click id (yclid)', a.yclid],
      ['GA client id', a.gaClientId],
      ['Metrica client id', a.ymClientId],
    ] as const
  ).filter(([, v]) => v !== null);
  return (
    <section aria-labelledby="journey-h">
      <h2 id="journey-h">Visitor journey</h2>
      <dl className="facts journey">
        {[...rows, ...ids].map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v ?? '—'}</dd>
          </div>
        ))}
      </dl>
      {Object.keys(a.utm).length > 0 && (
        <table>
          <caption>UTM parameters</caption>
          <tbody>
            {Object.entries(a.utm).map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!a.sessionId && (
        <p className="muted">
          {a.confidence === 'static'
            ? "The call came to a static source's number: no website session."
            : 'No website session: the call could not be attributed to a visit.'}
        </p>
      )}
    </section>
  );
}

function Listens({ id, tick }: { id: string; tick: number }) {
  const listens = useAsync(() => get<{ items: { listener: string; listenedAt: string }[] }>(`/v1/calls/${id}/listens`), [id, tick]);
  return (
    <section aria-labelledby="listens-h">
      <h2 id="listens-h">Listened by</h2>
      {listens.data ? (
        listens.data.items.length === 0 ? (
          <p className="muted">Nobody has listened yet.</p>
        ) : (
          <ul>
            {listens.data.items.map((l, i) => (
              <li key={i}>
                {l.listener} · {fmtDateTime(l.listenedAt)}
              </li>
            ))}
          </ul>
        )
      ) : listens.error ? (
        <ErrorBox error={listens.error} />
      ) : (
        <Loading />
      )}
    </section>
  );
}

export function CallDetailPage({ id }: { id: string }) {
  const role = useRole();
  const call = useAsync(() => get<CallDetail>(`/v1/calls/${id}`), [id]);
  const [listened, setListened] = useState(0);
  const c = call.data;
  return (
    <>
      <PageHeader title={c ? `Call from ${c.caller}` : 'Call'}>
        <Link to="/calls" className="button secondary">
          Back to calls
        </Link>
      </PageHeader>
      {!c ? (
        call.error ? (
          <ErrorBox error={call.error} />
        ) : (
          <Loading what="Loading the call" />
        )
      ) : (
        <div className="detail">
          <section aria-labelledby="summary-h" className="card">
            <h2 id="summary-h">Summary</h2>
            <dl className="facts">
              <div>
                <dt>Status</dt>
                <dd>
                  <CallBadge call={c} />
                </dd>
              </div>
              <div>
                <dt>Caller</dt>
                <dd>
                  {c.caller}
                  {c.callerName ? ` (${c.callerName})` : ''}
                </dd>
              </div>
              <div>
                <dt>Caller history</dt>
                <dd>{c.firstTime === null ? 'unknown' : c.firstTime ? 'First-time caller' : `Repeat caller (${earlierCalls(c.priorCalls)} earlier calls)`}</dd>
              </div>
              <div>
                <dt>Tracking number</dt>
                <dd>{c.trackingNumber}</dd>
              </div>
              <div>
                <dt>Started</dt>
                <dd>{fmtDateTime(c.startedAt)}</dd>
              </div>
              <div>
                <dt>Talk / ring</dt>
                <dd>
                  {fmtDuration(c.talkSeconds)} / {fmtDuration(c.ringSeconds)}
                </dd>
              </div>
              <div>
                <dt>Answered by</dt>
                <dd>{c.answeredBy ?? '—'}</dd>
              </div>
              <div>
                <dt>Dialplan</dt>
                <dd>
                  {c.dialplan ?? '—'}
                  {c.ivrDigits ? ` · IVR ${c.ivrDigits}` : ''}
                </dd>
              </div>
              {c.direction !== 'inbound' && (
                <div>
                  <dt>{c.direction === 'internal' ? 'Internal call to' : c.callbackOf ? 'Callback to' : 'Outbound call to'}</dt>
                  <dd>
                    {c.callee ?? '—'}
                    {c.callbackOf ? (
                      <>
                        {' '}
                        · returns <Link to={`/calls/${c.callbackOf}`}>the missed call</Link>
                      </>
                    ) : null}
                  </dd>
                </div>
              )}
              {c.queue && (
                <div>
                  <dt>Queue</dt>
                  <dd>
                    {c.queue.name}: {c.queue.outcome}, waited {fmtDuration(c.queue.waitSeconds)}
                    {c.queue.withinServiceLevel ? ' (within service level)' : ''}
                  </dd>
                </div>
              )}
            </dl>
          </section>
          <section aria-labelledby="rec-h" className="card wide">
            <h2 id="rec-h">Recording</h2>
            <Recording call={c} onListened={() => setListened((n) => n + 1)} />
          </section>
          <div className="card">
            <Tags call={c} onChange={call.reload} />
          </div>
          <div className="card">
            <Score call={c} onChange={call.reload} />
          </div>
          <div className="card wide">
            <Notes call={c} onChange={call.reload} />
          </div>
          <div className="card wide">
            <Journey call={c} />
          </div>
          {can.seeListens(role) && (
            <div className="card">
              <Listens id={c.id} tick={listened} />
            </div>
          )}
        </div>
      )}
    </>
  );
}
