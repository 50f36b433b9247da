import { del, get, post } from '../api.tsx';
import { useAuth } from '../app.tsx';
import { ErrorBox, PageHeader, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';

/** Mirrors the session list of server/users/account.routes.ts. */
interface SessionItem {
  id: string;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  userAgent: string | null;
  current: boolean;
}

/** Where am I signed in: each open session, ending one, or all of them at once. */
export function AccountPage() {
  const { session, signedOut } = useAuth();
  const sessions = useAsync(() => (session.user ? get<{ items: SessionItem[] }>('/v1/auth/sessions') : Promise.resolve({ items: [] })), [session.user]);
  const submit = useSubmit();
  return (
    <>
      <PageHeader title="Your account" />
      <section className="card" aria-labelledby="sessions-h">
        <h2 id="sessions-h">Where you are signed in</h2>
        <Section state={sessions} isEmpty={(d) => d.items.length === 0} empty="No browser sessions (you are using an API key).">
          {(d) => (
            <div className="table-wrap">
              <table className="sessions">
                <caption className="sr-only">Open sessions</caption>
                <thead>
                  <tr>
                    <th scope="col">Browser</th>
                    <th scope="col">Signed in</th>
                    <th scope="col">Last active</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((s) => (
                    <tr key={s.id} data-session-id={s.id} data-current={s.current}>
                      <td>
                        {s.userAgent ?? 'unknown browser'} {s.current && <span className="badge ok">this browser</span>}
                      </td>
                      <td>{fmtDateTime(s.createdAt)}</td>
                      <td>{fmtDateTime(s.lastSeenAt)}</td>
                      <td>
                        {!s.current && (
                          <button
                            type="button"
                            className="secondary"
                            aria-label={`Sign out the session from ${fmtDateTime(s.createdAt)}`}
                            onClick={() =>
                              void submit.run(async () => {
                                await del(`/v1/auth/sessions/${s.id}`);
                                sessions.reload();
                              })
                            }
                          >
                            Sign out
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
        {session.user && (
          <p>
            <button
              type="button"
              onClick={() =>
                void submit.run(async () => {
                  await post('/v1/auth/sign-out-everywhere');
                  signedOut();
                })
              }
            >
              Sign out everywhere
            </button>
          </p>
        )}
        <ErrorBox error={submit.error} />
      </section>
    </>
  );
}
