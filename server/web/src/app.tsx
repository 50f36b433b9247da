import { type ReactNode, Suspense, createContext, lazy, useCallback, useContext, useEffect, useState } from 'react';
import { ApiError, type Role, type Session, can, get, post, setCsrfToken, setUnauthenticatedHandler } from './api.tsx';
import { CallDetailPage } from './pages/call-detail.tsx';
import { AccountPage } from './pages/account.tsx';
import { CallsPage } from './pages/calls.tsx';
import { HomePage } from './pages/home.tsx';
import { IntegrationsPage } from './pages/integrations.tsx';
import { LeadsPage } from './pages/leads.tsx';
import { PbxPage } from './pages/pbx.tsx';
import { WallboardPage } from './pages/wallboard.tsx';
import { DialplansPage } from './pages/dialplans.tsx';
import { NumbersPage } from './pages/numbers.tsx';
import { ForgotPasswordPage, ResetPasswordPage } from './pages/password-reset.tsx';
import { ReportsPage } from './pages/reports.tsx';
import { RoiPage } from './pages/roi.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { SetupPage } from './pages/setup.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { SourcesPage } from './pages/sources.tsx';
import { TagRulesPage } from './pages/tag-rules.tsx';
import { TrunksPage } from './pages/trunks.tsx';
import { Link, Loading, navigate, usePath } from './ui.tsx';

interface AuthState {
  session: Session;
  signOut: () => Promise<void>;
  /** The server already ended the session (sign out everywhere): forget it here too. */
  signedOut: () => void;
}
// SIP.js is half the bundle: only agents who open the Phone page load it.
const PhonePage = lazy(() => import('./pages/phone.tsx').then((m) => ({ default: m.PhonePage })));

const AuthContext = createContext<AuthState | undefined>(undefined);

export function useAuth(): AuthState {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside a signed-in page');
  return auth;
}
export const useRole = (): Role => useAuth().session.principal.role;

const NAV: { to: string; label: string; visible: (r: Role) => boolean }[] = [
  { to: '/calls', label: 'Calls', visible: () => true },
  { to: '/leads', label: 'Leads', visible: () => true },
  { to: '/reports', label: 'Reports', visible: () => true },
  { to: '/roi', label: 'ROI', visible: () => true },
  { to: '/tag-rules', label: 'Tag rules', visible: () => true },
  { to: '/trunks', label: 'Trunks', visible: can.manageNumbers },
  { to: '/pbx', label: 'Extensions & groups', visible: (r) => r === 'admin' || r === 'manager' },
  { to: '/call-flows', label: 'Call flows', visible: (r) => r === 'admin' || r === 'manager' },
  { to: '/wallboard', label: 'Wallboard', visible: (r) => r === 'admin' || r === 'manager' },
  { to: '/phone', label: 'Phone', visible: (r) => r === 'admin' || r === 'manager' },
  { to: '/numbers', label: 'Numbers & pools', visible: () => true },
  { to: '/sources', label: 'Sources', visible: () => true },
  { to: '/integrations', label: 'Integrations', visible: () => true },
  { to: '/settings', label: 'Settings', visible: can.seeSettings },
];

export function App() {
  const path = usePath();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [setupNeeded, setSetupNeeded] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const s = await get<Session>('/v1/auth/session');
      setCsrfToken(s.csrfToken);
      setSession(s);
    } catch (err) {
      // Not signed in: on a fresh install there is nobody to sign in as, so offer first-run setup.
      if (err instanceof ApiError && err.status === 401)
        setSetupNeeded(
          await get<{ needed: boolean }>('/v1/setup').then(
            (s) => s.needed,
            () => false,
          ),
        );
      setSession(null);
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  useEffect(() => setUnauthenticatedHandler(() => setSession(null)), []);

  const signOut = useCallback(async () => {
    await post('/v1/auth/sign-out').catch(() => undefined);
    setCsrfToken(null);
    setSession(null);
    navigate('/sign-in');
  }, []);
  const signedOut = useCallback(() => {
    setCsrfToken(null);
    setSession(null);
    navigate('/sign-in');
  }, []);

  if (session === undefined)
    return (
      <main className="centered">
        <Loading what="Checking your session" />
      </main>
    );
  if (session === null && setupNeeded) {
    return (
      <SetupPage
        onDone={(s) => {
          setCsrfToken(s.csrfToken);
          setSetupNeeded(false);
          setSession(s);
          navigate('/');
        }}
      />
    );
  }
  if (session === null && path.startsWith('/forgot-password')) return <ForgotPasswordPage />;
  if (session === null && path.startsWith('/reset-password')) return <ResetPasswordPage />;
  if (session === null || path.startsWith('/sign-in')) {
    return (
      <SignInPage
        signedIn={session !== null}
        onSignedIn={(s) => {
          setCsrfToken(s.csrfToken);
          setSession(s);
          const next = new URLSearchParams(window.location.search).get('next');
          navigate(next?.startsWith('/') && !next.startsWith('//') ? next : '/calls');
        }}
      />
    );
  }

  const pathname = path.split('?')[0]!;
  const role = session.principal.role;
  let page: ReactNode;
  const callMatch = /^\/calls\/([0-9a-f-]{36})$/.exec(pathname);
  if (callMatch) page = <CallDetailPage id={callMatch[1]!} />;
  else if (pathname === '/leads') page = <LeadsPage />;
  else if (pathname === '/pbx') page = <PbxPage />;
  else if (pathname === '/call-flows') page = <DialplansPage />;
  else if (pathname === '/wallboard') page = <WallboardPage />;
  else if (pathname === '/phone')
    page = (
      <Suspense fallback={<Loading what="Loading the phone" />}>
        <PhonePage />
      </Suspense>
    );
  else if (pathname === '/reports') page = <ReportsPage />;
  else if (pathname === '/roi') page = <RoiPage />;
  else if (pathname === '/tag-rules') page = <TagRulesPage />;
  else if (pathname === '/numbers') page = <NumbersPage />;
  else if (pathname === '/sources') page = <SourcesPage />;
  else if (pathname === '/integrations') page = <IntegrationsPage />;
  else if (pathname === '/settings' && can.seeSettings(role)) page = <SettingsPage />;
  else if (pathname === '/trunks' && can.manageNumbers(role)) page = <TrunksPage />;
  else if (pathname === '/') page = <HomePage />;
  else if (pathname === '/account') page = <AccountPage />;
  else page = <CallsPage />;

  return (
    <AuthContext.Provider value={{ session, signOut, signedOut }}>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Call tracking
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((n) => n.visible(role)).map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={pathname.startsWith(n.to) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span title={session.principal.name}>
            <Link to="/account" className="account-link">
              {session.user?.name ?? session.principal.name}
            </Link>{' '}
            · <span className={`role role-${role}`}>{role}</span>
          </span>
          <button type="button" className="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="content" tabIndex={-1}>
        {page}
      </main>
    </AuthContext.Provider>
  );
}
