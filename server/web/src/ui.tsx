import { type ReactNode, useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api.tsx';

/** Tiny history router: pages are chosen from location.pathname; links push state. */
export function navigate(to: string): void {
  window.history.pushState(null, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname + window.location.search);
  useEffect(() => {
    const on = () => setPath(window.location.pathname + window.location.search);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return path;
}

export function Link({ to, children, className, ...rest }: { to: string; children: ReactNode; className?: string; 'aria-current'?: 'page' | undefined }) {
  return (
    <a
      href={to}
      className={className}
      {...rest}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: ApiError | Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads data for a page; `deps` changes reload it. Keeps old data while reloading (no flicker on polling). */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` is the reload trigger and `deps` the caller's; `load` is read through a ref
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => {
        if (live) setState({ data, loading: false });
      },
      (error: Error) => {
        if (live) setState((s) => ({ ...s, error, loading: false }));
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <div className="empty" role="status">
      {children}
    </div>
  );
}

export function ErrorBox({ error }: { error: Error | undefined }) {
  if (!error) return null;
  const status = error instanceof ApiError ? error.status : 0;
  const text =
    status === 403
      ? `Your role cannot see this. ${error.message}`
      : status === 404 && error.message.startsWith('no route')
        ? 'This part of the server is not available yet.'
        : error.message;
  return (
    <div className="error" role="alert">
      {text}
    </div>
  );
}

/** The body of a page section: progress, error, empty state or content. */
export function Section<T>({
  state,
  empty,
  isEmpty,
  children,
}: {
  state: Async<T>;
  empty: ReactNode;
  isEmpty: (data: T) => boolean;
  children: (data: T) => ReactNode;
}) {
  if (state.data === undefined) return state.error ? <ErrorBox error={state.error} /> : <Loading />;
  return (
    <>
      {state.error && <ErrorBox error={state.error} />}
      {isEmpty(state.data) ? <Empty>{empty}</Empty> : children(state.data)}
    </>
  );
}

export const fmtDateTime = (iso: string | null | undefined) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—';
export const fmtDuration = (s: number | null | undefined) => {
  if (s === null || s === undefined) return '—';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.round(s % 60)).padStart(2, '0')}`;
};
/** The server counts a caller's earlier calls up to 100: that figure means as many or more. */
export const earlierCalls = (n: number) => (n >= 100 ? '100+' : String(n));
export const fmtMoney = (v: number | null | undefined, currency = 'RUB') =>
  v === null || v === undefined || Number.isNaN(v)
    ? '—'
    : new Intl.NumberFormat(undefined, { style: 'currency', currency, maximumFractionDigits: 2 }).format(v);

/** A form's submit state: busy while the request runs, its error shown beside the form. */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>();
  const run = useCallback(async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      return true;
    } catch (err) {
      setError(err as Error);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Call tracking`;
  }, [title]);
  return (
    <header className="page-header">
      <h1>{title}</h1>
      {children && <div className="actions">{children}</div>}
    </header>
  );
}
