import { useState } from 'react';
import { del, get, post } from '../api.tsx';
import { useRole } from '../app.tsx';
import { ErrorBox, PageHeader, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';

/** Mirrors server/pbx/extensions.schemas.ts and groups.schemas.ts. */
interface Extension {
  id: string;
  extension: string;
  name: string;
  sipUsername: string;
  createdAt: string;
}
interface Registration {
  contact: string;
  expiresAt: string;
  userAgent: string | null;
}
interface Group {
  id: string;
  name: string;
  strategy: 'simultaneous' | 'sequential' | 'round-robin' | 'longest-idle';
  ringSeconds: number;
  members: string[];
}
const STRATEGY_LABEL: Record<Group['strategy'], string> = {
  simultaneous: 'all at once',
  sequential: 'one after another',
  'round-robin': 'round-robin',
  'longest-idle': 'longest idle first',
};

function Registrations({ id }: { id: string }) {
  const regs = useAsync(() => get<{ items: Registration[] }>(`/v1/extensions/${id}/registrations`), [id]);
  if (!regs.data) return null;
  if (regs.data.items.length === 0) return <span className="badge missed">not registered</span>;
  return (
    <span className="badge ok" title={regs.data.items.map((r) => `${r.contact} until ${fmtDateTime(r.expiresAt)}`).join('\n')}>
      {regs.data.items.length} phone{regs.data.items.length > 1 ? 's' : ''} registered
    </span>
  );
}

function Extensions({ admin }: { admin: boolean }) {
  const [reload, setReload] = useState(0);
  const list = useAsync(() => get<{ items: Extension[] }>('/v1/extensions'), [reload]);
  const [form, setForm] = useState({ extension: '', name: '' });
  const [created, setCreated] = useState<{ extension: string; sipUsername: string; sipPassword: string } | undefined>();
  const submit = useSubmit();
  return (
    <section className="card" aria-labelledby="ext-h">
      <h2 id="ext-h">Extensions</h2>
      <Section state={list} isEmpty={(d) => d.items.length === 0} empty="No extensions yet.">
        {(d) => (
          <table className="extensions">
            <caption className="sr-only">Extensions</caption>
            <thead>
              <tr>
                <th scope="col">Number</th>
                <th scope="col">Name</th>
                <th scope="col">SIP user</th>
                <th scope="col">Phones</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {d.items.map((x) => (
                <tr key={x.id}>
                  <td>{x.extension}</td>
                  <td>{x.name}</td>
                  <td>
                    <code>{x.sipUsername}</code>
                  </td>
                  <td>
                    <Registrations id={x.id} />
                  </td>
                  <td>
                    {admin && (
                      <button
                        type="button"
                        className="secondary"
                        disabled={submit.busy}
                        onClick={() => {
                          if (window.confirm(`Delete extension ${x.extension}?`))
                            void submit.run(() => del(`/v1/extensions/${x.id}`).then(() => setReload((n) => n + 1)));
                        }}
                      >
                        Delete {x.extension}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {created && (
        <p role="status" className="card">
          Extension {created.extension}: SIP user <code>{created.sipUsername}</code>, password <code>{created.sipPassword}</code>. Copy it now: it is not shown
          again.
        </p>
      )}
      {admin && (
        <form
          aria-labelledby="new-ext-h"
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              setCreated(await post('/v1/extensions', form));
              setForm({ extension: '', name: '' });
              setReload((n) => n + 1);
            });
          }}
        >
          <h3 id="new-ext-h">New extension</h3>
          <label>
            Number
            <input required pattern="[0-9]{2,8}" value={form.extension} onChange={(e) => setForm({ ...form, extension: e.target.value })} />
          </label>
          <label>
            Employee name
            <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </label>
          <button type="submit" disabled={submit.busy}>
            Add extension
          </button>
        </form>
      )}
      <ErrorBox error={submit.error} />
    </section>
  );
}

function Groups({ admin }: { admin: boolean }) {
  const [reload, setReload] = useState(0);
  const list = useAsync(() => get<{ items: Group[] }>('/v1/groups'), [reload]);
  const [form, setForm] = useState({ name: '', strategy: 'simultaneous' as Group['strategy'], ringSeconds: 20, members: '' });
  const submit = useSubmit();
  return (
    <section className="card" aria-labelledby="groups-h">
      <h2 id="groups-h">Ring groups</h2>
      <Section state={list} isEmpty={(d) => d.items.length === 0} empty="No ring groups yet.">
        {(d) => (
          <table className="groups">
            <caption className="sr-only">Ring groups</caption>
            <thead>
              <tr>
                <th scope="col">Name (in call flows)</th>
                <th scope="col">Rings</th>
                <th scope="col">Members</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {d.items.map((g) => (
                <tr key={g.id}>
                  <td>
                    <code>group:{g.name}</code>
                  </td>
                  <td>
                    {STRATEGY_LABEL[g.strategy]}, {g.ringSeconds} s
                  </td>
                  <td>{g.members.join(', ')}</td>
                  <td>
                    {admin && (
                      <button
                        type="button"
                        className="secondary"
                        disabled={submit.busy}
                        onClick={() => void submit.run(() => del(`/v1/groups/${g.id}`).then(() => setReload((n) => n + 1)))}
                      >
                        Delete {g.name}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {admin && (
        <form
          aria-labelledby="new-group-h"
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              await post('/v1/groups', { ...form, members: form.members.split(/[\s,]+/).filter(Boolean) });
              setForm({ ...form, name: '', members: '' });
              setReload((n) => n + 1);
            });
          }}
        >
          <h3 id="new-group-h">New ring group</h3>
          <label>
            Name
            <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </label>
          <label>
            Strategy
            <select value={form.strategy} onChange={(e) => setForm({ ...form, strategy: e.target.value as Group['strategy'] })}>
              {(Object.keys(STRATEGY_LABEL) as Group['strategy'][]).map((s) => (
                <option key={s} value={s}>
                  {STRATEGY_LABEL[s]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Ring seconds
            <input type="number" min={1} max={300} value={form.ringSeconds} onChange={(e) => setForm({ ...form, ringSeconds: Number(e.target.value) })} />
          </label>
          <label>
            Members (extension:101, tel:+7…, sip:user@host), separated by spaces or commas
            <input required value={form.members} onChange={(e) => setForm({ ...form, members: e.target.value })} />
          </label>
          <button type="submit" disabled={submit.busy}>
            Add group
          </button>
        </form>
      )}
      <ErrorBox error={submit.error} />
    </section>
  );
}

/** Who answers: employees' extensions with their registered phones, and ring groups. */
export function PbxPage() {
  const admin = useRole() === 'admin';
  return (
    <>
      <PageHeader title="Extensions & groups" />
      <Extensions admin={admin} />
      <Groups admin={admin} />
    </>
  );
}
