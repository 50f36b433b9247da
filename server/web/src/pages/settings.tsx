import { useState } from 'react';
import { type Role, can, del, get, patch, post } from '../api.tsx';
import { useAuth, useRole } from '../app.tsx';
import { ErrorBox, PageHeader, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';

const ROLES: Role[] = ['admin', 'manager', 'marketer', 'viewer'];

function ApiKeys() {
  const keys = useAsync(
    () =>
      get<{ items: { id: string; name: string; role: Role; prefix: string; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }[] }>(
        '/v1/api-keys',
      ),
    [],
  );
  const [form, setForm] = useState({ name: '', role: 'viewer' as Role });
  const [created, setCreated] = useState<string | undefined>();
  const submit = useSubmit();
  return (
    <section className="card" aria-labelledby="keys-h">
      <h2 id="keys-h">API keys</h2>
      <Section state={keys} isEmpty={(d) => d.items.length === 0} empty="No API keys.">
        {(d) => (
          <div className="table-wrap">
            <table>
              <caption className="sr-only">API keys</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((k) => (
                  <tr key={k.id}>
                    <td>{k.name}</td>
                    <td>{k.role}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>{fmtDateTime(k.lastUsedAt)}</td>
                    <td>
                      {k.revokedAt ? (
                        'revoked'
                      ) : (
                        <button
                          type="button"
                          className="secondary"
                          onClick={() =>
                            void submit.run(async () => {
                              await del(`/v1/api-keys/${k.id}`);
                              keys.reload();
                            })
                          }
                        >
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <form
        className="inline"
        aria-label="New API key"
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run(async () => {
            const k = await post<{ key: string }>('/v1/api-keys', form);
            setCreated(k.key);
            keys.reload();
          });
        }}
      >
        <label>
          Name
          <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </label>
        <label>
          Role
          <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={submit.busy}>
          Create key
        </button>
      </form>
      {created && (
        <p className="notice" role="status">
          New key (shown once): <code>{created}</code>
        </p>
      )}
      <ErrorBox error={submit.error} />
    </section>
  );
}

function Users() {
  const me = useAuth().session.user;
  const users = useAsync(
    () => get<{ items: { id: string; email: string; name: string; role: Role; disabled: boolean; lastSignInAt: string | null }[] }>('/v1/users'),
    [],
  );
  const [form, setForm] = useState({ email: '', name: '', role: 'viewer' as Role, password: '' });
  const submit = useSubmit();
  return (
    <section className="card" aria-labelledby="users-h">
      <h2 id="users-h">Users</h2>
      <Section state={users} isEmpty={(d) => d.items.length === 0} empty="No users yet.">
        {(d) => (
          <div className="table-wrap">
            <table>
              <caption className="sr-only">Users</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">E-mail</th>
                  <th scope="col">Role</th>
                  <th scope="col">Last sign-in</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((u) => (
                  <tr key={u.id} className={u.disabled ? 'disabled' : undefined}>
                    <td>{u.name}</td>
                    <td>{u.email}</td>
                    <td>{u.role}</td>
                    <td>{fmtDateTime(u.lastSignInAt)}</td>
                    <td>
                      {u.id !== me?.id && (
                        <button
                          type="button"
                          className="secondary"
                          onClick={() =>
                            void submit.run(async () => {
                              await patch(`/v1/users/${u.id}`, { disabled: !u.disabled });
                              users.reload();
                            })
                          }
                        >
                          {u.disabled ? 'Enable' : 'Disable'}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <form
        aria-label="New user"
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run(async () => {
            await post('/v1/users', form);
            setForm({ ...form, email: '', name: '', password: '' });
            users.reload();
          });
        }}
      >
        <h3>New user</h3>
        <label>
          Name
          <input required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </label>
        <label>
          E-mail
          <input type="email" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        </label>
        <label>
          Role
          <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as Role })}>
            {ROLES.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <label>
          Password (10+ characters)
          <input
            type="password"
            autoComplete="new-password"
            minLength={10}
            required
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        </label>
        <button type="submit" disabled={submit.busy}>
          Create user
        </button>
      </form>
      <ErrorBox error={submit.error} />
    </section>
  );
}

function Dialplans() {
  const plans = useAsync(
    () =>
      get<{
        items: {
          name: string;
          source: 'file' | 'stored';
          version: number | null;
          file: string | null;
          loadedAt: string | null;
          lastError: string | null;
          active: boolean;
        }[];
      }>('/v1/dialplans'),
    [],
  );
  return (
    <section className="card" aria-labelledby="dialplans-h">
      <h2 id="dialplans-h">Dialplans</h2>
      <Section state={plans} isEmpty={(d) => d.items.length === 0} empty="No dialplans loaded.">
        {(d) => (
          <div className="table-wrap">
            <table>
              <caption className="sr-only">Dialplans</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Where</th>
                  <th scope="col">Loaded</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((p) => (
                  <tr key={`${p.source}-${p.name}`} className={p.lastError ? 'missed' : undefined}>
                    <td>{p.name}</td>
                    <td>{p.file ? <code>{p.file}</code> : `saved in the app, version ${p.version}`}</td>
                    <td>{fmtDateTime(p.loadedAt)}</td>
                    <td>{p.lastError ? `Last load failed: ${p.lastError}${p.active ? ' (last good version in use)' : ''}` : 'OK'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </section>
  );
}

export function SettingsPage() {
  const role = useRole();
  return (
    <>
      <PageHeader title="Settings" />
      <Dialplans />
      {can.manageAccess(role) && (
        <>
          <Users />
          <ApiKeys />
        </>
      )}
    </>
  );
}
