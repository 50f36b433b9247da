import { useState } from 'react';
import { type Session, post } from '../api.tsx';
import { ErrorBox, Link, useSubmit } from '../ui.tsx';

export function SignInPage({ onSignedIn }: { signedIn: boolean; onSignedIn: (s: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const submit = useSubmit();
  return (
    <main className="centered">
      <form
        className="card sign-in"
        aria-labelledby="sign-in-title"
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run(async () => onSignedIn(await post<Session>('/v1/auth/sign-in', { email, password })));
        }}
      >
        <h1 id="sign-in-title">Sign in</h1>
        <label>
          E-mail
          <input type="email" name="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input type="password" name="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <ErrorBox error={submit.error} />
        <button type="submit" disabled={submit.busy}>
          {submit.busy ? 'Signing in…' : 'Sign in'}
        </button>
        <Link to="/forgot-password">Forgot password?</Link>
      </form>
    </main>
  );
}
