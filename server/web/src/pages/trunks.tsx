import { useEffect, useState } from 'react';
import { del, get, post } from '../api.tsx';
import { ErrorBox, PageHeader, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';

/** Mirrors server/trunks/trunks.schemas.ts. */
interface Trunk {
  id: string;
  name: string;
  addresses: string[];
  username: string | null;
  hasPassword: boolean;
  lastInviteAt: string | null;
  createdAt: string;
}
interface ProbeResult {
  target: string;
  answered: boolean;
  status: number | null;
  reason: string | null;
  rttMs: number | null;
  server: string | null;
}

/** Sends one SIP OPTIONS from the server to a carrier or SBC and shows the answer: is it reachable and speaking SIP to us? */
function OptionsTest({ suggestion }: { suggestion: string }) {
  const [target, setTarget] = useState('');
  const [result, setResult] = useState<ProbeResult | undefined>();
  const submit = useSubmit();
  return (
    <section className="card" aria-labelledby="probe-h">
      <h2 id="probe-h">Test a carrier address</h2>
      <form
        className="inline"
        aria-label="Send OPTIONS"
        onSubmit={(e) => {
          e.preventDefault();
          setResult(undefined);
          void submit.run(async () => setResult(await post<ProbeResult>('/v1/trunks/options-probe', { target: target || suggestion })));
        }}
      >
        <label>
          Address (host:port)
          <input name="probeTarget" placeholder={suggestion || '203.0.113.10:5060'} value={target} onChange={(e) => setTarget(e.target.value)} />
        </label>
        <button type="submit" disabled={submit.busy || (!target && !suggestion)}>
          {submit.busy ? 'Waiting for an answer…' : 'Send OPTIONS'}
        </button>
      </form>
      {result && (
        <p className={result.answered ? 'notice probe-result' : 'error probe-result'} role="status">
          {result.answered
            ? `${result.target} answered ${result.status} ${result.reason} in ${result.rttMs} ms${result.server ? ` (${result.server})` : ''}`
            : `No answer from ${result.target}: check the address, the port and the carrier's firewall.`}
        </p>
      )}
      <ErrorBox error={submit.error} />
    </section>
  );
}

const EMPTY = { name: '', addresses: '', username: '', password: '' };

/** Carrier trunks: calls are accepted only from a trunk's addresses (inbound ACL) or with its digest credentials. */
export function TrunksPage() {
  const trunks = useAsync(() => get<{ items: Trunk[] }>('/v1/trunks'), []);
  const { reload } = trunks;
  // "Last INVITE" is live: while the carrier's test call comes in, the admin watches it change.
  useEffect(() => {
    const timer = setInterval(reload, 5_000);
    return () => clearInterval(timer);
  }, [reload]);
  const firstAddress = trunks.data?.items.flatMap((t) => t.addresses)[0];
  const suggestion = firstAddress && /\/32$/.test(firstAddress) ? `${firstAddress.slice(0, -3)}:5060` : '';
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
                    <th scope="col">Last INVITE</th>
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
                      <td className="last-invite">{t.lastInviteAt ? fmtDateTime(t.lastInviteAt) : 'never'}</td>
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
      <OptionsTest suggestion={suggestion} />
    </>
  );
}
