import { useState } from 'react';
import { can, get, post } from '../api.tsx';
import { useRole } from '../app.tsx';
import { ErrorBox, PageHeader, Section, fmtMoney, useAsync, useSubmit } from '../ui.tsx';

/** Mirrors server/sources/sources.schemas.ts. */
interface Source {
  id: string;
  name: string;
  kind: 'offline' | 'online';
  channel: string;
  medium: string | null;
  campaign: string | null;
  cost: number | null;
  currency: string;
  startsOn: string | null;
  endsOn: string | null;
  numbers: string[];
  dialplan: string | null;
  createdAt: string;
}

export function SourcesPage() {
  const role = useRole();
  const sources = useAsync(() => get<{ items: Source[] }>('/v1/sources'), []);
  const [form, setForm] = useState({ name: '', kind: 'offline', channel: 'flyer', campaign: '', cost: '', numbers: '' });
  const [printing, setPrinting] = useState<string | undefined>();
  const submit = useSubmit();
  return (
    <>
      <PageHeader title="Sources" />
      <p className="muted">Static numbers for offline and ad campaigns: every call to them is attributed to the source.</p>
      <Section state={sources} isEmpty={(d) => d.items.length === 0} empty="No static sources yet.">
        {(d) => (
          <ul className="sources">
            {d.items.map((s) => (
              <li key={s.id} className={`card source${printing === s.id ? ' printing' : ''}`}>
                <h2>{s.name}</h2>
                <p>
                  {s.kind} · {s.channel}
                  {s.campaign ? ` · ${s.campaign}` : ''}
                </p>
                <p>
                  Cost: {fmtMoney(s.cost, s.currency)}
                  {s.startsOn ? ` · ${s.startsOn} – ${s.endsOn ?? '…'}` : ''}
                </p>
                <p>Numbers: {s.numbers.length ? s.numbers.join(', ') : 'none'}</p>
                {s.numbers.length > 0 && (
                  // One printable QR per number (tel: link); same-origin <img>, authenticated by the session cookie.
                  <ul className="qrs">
                    {s.numbers.map((num) => (
                      <li key={num}>
                        <figure>
                          <img
                            className="qr"
                            src={`/v1/sources/${s.id}/qr.svg?number=${encodeURIComponent(num)}`}
                            alt={`QR code that dials ${num}`}
                            width={160}
                            height={160}
                          />
                          <figcaption>{num}</figcaption>
                        </figure>
                      </li>
                    ))}
                  </ul>
                )}
                {s.numbers.length > 0 && (
                  <button
                    type="button"
                    className="secondary no-print"
                    onClick={() => {
                      setPrinting(s.id);
                      setTimeout(() => {
                        window.print();
                        setPrinting(undefined);
                      }, 50);
                    }}
                  >
                    Print QR
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Section>
      {can.manageSources(role) && (
        <form
          className="card no-print"
          aria-labelledby="new-source-h"
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              await post('/v1/sources', {
                name: form.name,
                kind: form.kind,
                channel: form.channel,
                ...(form.campaign ? { campaign: form.campaign } : {}),
                ...(form.cost ? { cost: Number(form.cost) } : {}),
                numbers: form.numbers.split(/[\s,]+/).filter(Boolean),
              });
              setForm({ ...form, name: '', numbers: '' });
              sources.reload();
            });
          }}
        >
          <h2 id="new-source-h">New static source</h2>
          <label>
            Name
            <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </label>
          <label>
            Kind
            <select value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
              <option value="offline">offline</option>
              <option value="online">online</option>
            </select>
          </label>
          <label>
            Channel
            <input required value={form.channel} onChange={(e) => setForm({ ...form, channel: e.target.value })} />
          </label>
          <label>
            Campaign
            <input value={form.campaign} onChange={(e) => setForm({ ...form, campaign: e.target.value })} />
          </label>
          <label>
            Cost
            <input type="number" min={0} step="0.01" value={form.cost} onChange={(e) => setForm({ ...form, cost: e.target.value })} />
          </label>
          <label>
            Numbers
            <input value={form.numbers} placeholder="+74951234567" onChange={(e) => setForm({ ...form, numbers: e.target.value })} />
          </label>
          <button type="submit" disabled={submit.busy}>
            Create source
          </button>
        </form>
      )}
      <ErrorBox error={submit.error} />
    </>
  );
}
