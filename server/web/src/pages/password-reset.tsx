import { useState } from 'react';
import { post } from '../api.tsx';
import { ErrorBox, Link, navigate, useSubmit } from '../ui.tsx';

/** Forgot password: no mail server is assumed, so the one-time link goes to the server log, where an admin (who runs the server) finds it. */
export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const [message, setMessage] = useState<string | undefined>();
  const submit = useSubmit();
  return (
    <main className="centered">
      <form
        className="card sign-in"
        aria-labelledby="forgot-title"
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run(async () => setMessage((await post<{ message: string }>('/v1/auth/password-reset', { email })).message));
        }}
      >
        <h1 id="forgot-title">Forgot password</h1>
        <p className="muted">Admins get a one-time link in the server log (valid 30 minutes). Other users: ask an admin to set a new password.</p>
        <label>
          E-mail
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        {message && (
          <p className="notice" role="status">
            {message}
          </p>
        )}
        <ErrorBox error={submit.error} />
        <button type="submit" disabled={submit.busy}>
          Write a reset link to the log
        </button>
        <Link to="/sign-in">Back to sign in</Link>
      </form>
    </main>
  );
}

export function ResetPasswordPage() {
  const token = new URLSearchParams(window.location.search).get('token') ?? '';
  const [password, setPassword] = useState('');
  const [done, setDone] = useState(false);
  const submit = useSubmit();
  return (
    <main className="centered">
      <form
        className="card sign-in"
        aria-labelledby="reset-title"
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run(async () => {
            await post('/v1/auth/password-reset/confirm', { token, password });
            setDone(true);
          });
        }}
      >
        <h1 id="reset-title">Choose a new password</h1>
        {done ? (
          <>
            <p className="notice" role="status">
              Password changed. Every old session was signed out.
            </p>
            <button type="button" onClick={() => navigate('/sign-in')}>
              Sign in
            </button>
          </>
        ) : (
          <>
            {!token && <ErrorBox error={new Error('This page needs the link from the server log (…/reset-password?token=…).')} />}
            <label>
              New password (at least 10 characters)
              <input
                type="password"
                name="password"
                autoComplete="new-password"
                minLength={10}
                required
                value={password}
                onChange={(e) => setPassword(e.target.value)}
              />
            </label>
            <ErrorBox error={submit.error} />
            <button type="submit" disabled={submit.busy || !token}>
              Set password
            </button>
          </>
        )}
      </form>
    </main>
  );
}
