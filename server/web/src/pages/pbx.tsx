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
                      <DeleteButton
                        name={g.name}
                        busy={submit.busy}
                        onDelete={() => void submit.run(() => del(`/v1/groups/${g.id}`).then(() => setReload((n) => n + 1)))}
                      />
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
              await post('/v1/groups', { ...form, members: memberList(form.members) });
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

/** Mirrors server/pbx/queues.schemas.ts. */
interface Queue {
  id: string;
  name: string;
  strategy: 'longest-idle' | 'round-robin' | 'ring-all';
  members: string[];
  ringSeconds: number;
  wrapUpSeconds: number;
  maxWaitSeconds: number;
}
const QUEUE_STRATEGY_LABEL: Record<Queue['strategy'], string> = {
  'longest-idle': 'longest idle first',
  'round-robin': 'in turn',
  'ring-all': 'all free agents at once',
};

function Queues({ admin }: { admin: boolean }) {
  const [reload, setReload] = useState(0);
  const list = useAsync(() => get<{ items: Queue[] }>('/v1/queues'), [reload]);
  const [form, setForm] = useState({ name: '', strategy: 'longest-idle' as Queue['strategy'], members: '', wrapUpSeconds: 10, maxWaitSeconds: 300 });
  const submit = useSubmit();
  return (
    <section className="card" aria-labelledby="queues-h">
      <h2 id="queues-h">Call queues</h2>
      <Section state={list} isEmpty={(d) => d.items.length === 0} empty="No call queues yet.">
        {(d) => (
          <table className="queues">
            <caption className="sr-only">Call queues</caption>
            <thead>
              <tr>
                <th scope="col">Name (in call flows)</th>
                <th scope="col">Offers calls</th>
                <th scope="col">Agents</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {d.items.map((q) => (
                <tr key={q.id}>
                  <td>
                    <code>queue: {q.name}</code>
                  </td>
                  <td>
                    {QUEUE_STRATEGY_LABEL[q.strategy]}, wrap-up {q.wrapUpSeconds} s, longest wait {q.maxWaitSeconds} s
                  </td>
                  <td>{q.members.join(', ')}</td>
                  <td>
                    {admin && (
                      <DeleteButton
                        name={q.name}
                        busy={submit.busy}
                        onDelete={() => void submit.run(() => del(`/v1/queues/${q.id}`).then(() => setReload((n) => n + 1)))}
                      />
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
          aria-labelledby="new-queue-h"
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              const members = memberList(form.members).map((m) => (m.startsWith('extension:') ? m : `extension:${m}`));
              await post('/v1/queues', { ...form, members });
              setForm({ ...form, name: '', members: '' });
              setReload((n) => n + 1);
            });
          }}
        >
          <h3 id="new-queue-h">New call queue</h3>
          <label>
            Queue name
            <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </label>
          <label>
            Offer calls
            <select value={form.strategy} onChange={(e) => setForm({ ...form, strategy: e.target.value as Queue['strategy'] })}>
              {(Object.keys(QUEUE_STRATEGY_LABEL) as Queue['strategy'][]).map((s) => (
                <option key={s} value={s}>
                  {QUEUE_STRATEGY_LABEL[s]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Agents’ extensions (101, 102…)
            <input required value={form.members} onChange={(e) => setForm({ ...form, members: e.target.value })} />
          </label>
          <label>
            Wrap-up seconds
            <input type="number" min={0} max={600} value={form.wrapUpSeconds} onChange={(e) => setForm({ ...form, wrapUpSeconds: Number(e.target.value) })} />
          </label>
          <label>
            Longest wait (seconds)
            <input
              type="number"
              min={5}
              max={7200}
              value={form.maxWaitSeconds}
              onChange={(e) => setForm({ ...form, maxWaitSeconds: Number(e.target.value) })}
            />
          </label>
          <button type="submit" disabled={submit.busy}>
            Add queue
          </button>
        </form>
      )}
      <ErrorBox error={submit.error} />
    </section>
  );
}

/** Who answers: employees' extensions with their registered phones, ring groups and call queues. */
export function PbxPage() {
  const admin = useRole() === 'admin';
  return (
    <>
      <PageHeader title="Extensions & groups" />
      <Extensions admin={admin} />
      <Groups admin={admin} />
      <Queues admin={admin} />
    </>
  );
}

/** Members typed as a list separated by commas, spaces or new lines. */
const memberList = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);

/** Deletes one row of a table (a group, a queue); named so screen readers say which. */
function DeleteButton({ name, busy, onDelete }: { name: string; busy: boolean; onDelete: () => void }) {
  return (
    <button type="button" className="secondary" disabled={busy} onClick={onDelete}>
      Delete {name}
    </button>
  );
}
