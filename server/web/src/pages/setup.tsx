import { useState } from 'react';
import { type Session, post } from '../api.tsx';
import { ErrorBox, useSubmit } from '../ui.tsx';

/**
 * First run: no user exists yet, so instead of a sign-in form nobody can pass, the UI creates the
 * first admin. The server allows it from this machine (loopback) or with the token from its log,
 * which the printed setup link carries as ?token=.
 */
export function SetupPage({ onDone }: { onDone: (s: Session) => void }) {
  const token = new URLSearchParams(window.location.search).get('token') ?? undefined;
  const [form, setForm] = useState({ name: '', email: '', password: '', repeat: '' });
  const [mismatch, setMismatch] = useState(false);
  const submit = useSubmit();
  return (
    <main className="centered">
      <form
        className="card sign-in"
        aria-labelledby="setup-title"
        onSubmit={(e) => {
          e.preventDefault();
          if (form.password !== form.repeat) {
            setMismatch(true);
            return;
          }
          setMismatch(false);
          void submit.run(async () => onDone(await post<Session>('/v1/setup', { name: form.name, email: form.email, password: form.password, token })));
        }}
      >
        <h1 id="setup-title">Welcome: create the first admin</h1>
        <p className="muted">No user exists yet. This account manages trunks, numbers and the other users.</p>
        <label>
          Your name
          <input name="name" autoComplete="name" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </label>
        <label>
          E-mail
          <input type="email" name="email" autoComplete="username" required value={form.email} onChange={(e) => setForm({ ...form, email: e.target.value })} />
        </label>
        <label>
          Password (at least 10 characters)
          <input
            type="password"
            name="password"
            autoComplete="new-password"
            minLength={10}
            required
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        </label>
        <label>
          Repeat the password
          <input
            type="password"
            name="repeat"
            autoComplete="new-password"
            required
            value={form.repeat}
            onChange={(e) => setForm({ ...form, repeat: e.target.value })}
          />
        </label>
        {mismatch && (
          <div className="error" role="alert">
            The two passwords differ.
          </div>
        )}
        <ErrorBox error={submit.error} />
        <button type="submit" disabled={submit.busy}>
          {submit.busy ? 'Creating…' : 'Create admin and sign in'}
        </button>
      </form>
    </main>
  );
}
