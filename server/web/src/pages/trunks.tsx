import { useState } from 'react';
import { del, get, post } from '../api.tsx';
import { ErrorBox, PageHeader, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';

/** Mirrors server/trunks/trunks.schemas.ts. */
interface Trunk {
  id: string;
  name: string;
  addresses: string[];
  username: string | null;
  hasPassword: boolean;
  createdAt: string;
}

const EMPTY = { name: '', addresses: '', username: '', password: '' };

/** Carrier trunks: calls are accepted only from a trunk's addresses (inbound ACL) or with its digest credentials. */
export function TrunksPage() {
  const trunks = useAsync(() => get<{ items: Trunk[] }>('/v1/trunks'), []);
  const [form, setForm] = useState(EMPTY);
  const submit = useSubmit();
  return (
    <>
      <PageHeader title="Trunks" />
      <section className="card" aria-labelledby="trunks-h">
        <h2 id="trunks-h">Carrier trunks</h2>
        <Section state={trunks} isEmpty={(d) => d.items.length === 0} empty="No trunk yet: add your carrier below, or no call can come in.">
          {(d) => (
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Carrier trunks</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Inbound addresses (ACL)</th>
                    <th scope="col">Digest user</th>
                    <th scope="col">Added</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((t) => (
                    <tr key={t.id} data-trunk={t.name}>
                      <td>{t.name}</td>
                      <td>{t.addresses.length > 0 ? t.addresses.join(', ') : '—'}</td>
                      <td>{t.username ? `${t.username}${t.hasPassword ? ' (password set)' : ''}` : '—'}</td>
                      <td>{fmtDateTime(t.createdAt)}</td>
                      <td>
                        <button
                          type="button"
                          className="secondary"
                          aria-label={`Delete trunk ${t.name}`}
                          onClick={() =>
                            void submit.run(async () => {
                              await del(`/v1/trunks/${t.id}`);
                              trunks.reload();
                            })
                          }
                        >
                          Delete
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Section>
      </section>
      <section className="card" aria-labelledby="new-trunk-h">
        <h2 id="new-trunk-h">Add a trunk</h2>
        <p className="muted">Give the carrier's signalling addresses, digest credentials, or both.</p>
        <form
          aria-label="Add trunk"
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              await post('/v1/trunks', {
                name: form.name,
                addresses: form.addresses.split(/[\s,]+/).filter(Boolean),
                ...(form.username ? { username: form.username, password: form.password } : {}),
              });
              setForm(EMPTY);
              trunks.reload();
            });
          }}
        >
          <label>
            Trunk name
            <input name="trunkName" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </label>
          <label>
            Carrier addresses (IP or CIDR, comma or space separated)
            <input name="addresses" placeholder="203.0.113.10/32" value={form.addresses} onChange={(e) => setForm({ ...form, addresses: e.target.value })} />
          </label>
          <label>
            Digest username (optional)
            <input name="username" autoComplete="off" value={form.username} onChange={(e) => setForm({ ...form, username: e.target.value })} />
          </label>
          <label>
            Digest password
            <input
              type="password"
              name="trunkPassword"
              autoComplete="new-password"
              minLength={8}
              required={form.username !== ''}
              value={form.password}
              onChange={(e) => setForm({ ...form, password: e.target.value })}
            />
          </label>
          <button type="submit" disabled={submit.busy}>
            Add trunk
          </button>
        </form>
        <ErrorBox error={submit.error} />
      </section>
    </>
  );
}
