import { useEffect, useState } from 'react';
import { can, get, post } from '../api.tsx';
import { useRole } from '../app.tsx';
import { ErrorBox, Link, Loading, PageHeader, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';
import { CallsPage } from './calls.tsx';

/** Mirrors server/onboarding/onboarding.schemas.ts. */
interface OnboardingStep {
  id: string;
  title: string;
  done: boolean;
  detail: string | null;
  href: string;
}
interface SnippetSeen {
  siteId: string;
  name: string;
  siteKey: string;
  lastSessionAt: string | null;
}
interface Onboarding {
  done: boolean;
  steps: OnboardingStep[];
  sites: SnippetSeen[];
}

// The checklist follows the admin doing the steps in other tabs or by API, without a reload.
const POLL_MS = 3_000;

function SiteSnippets({ sites, onAdded }: { sites: SnippetSeen[]; onAdded: () => void }) {
  const [form, setForm] = useState({ name: '', domain: '', defaultNumber: '' });
  const submit = useSubmit();
  return (
    <section className="card" id="snippet" aria-labelledby="snippet-h">
      <h2 id="snippet-h">Website snippet</h2>
      {sites.length === 0 && <p className="muted">Add your site first: the snippet swaps its printed number for a tracking number per visitor.</p>}
      <ul className="plain">
        {sites.map((s) => (
          <li key={s.siteId} data-site-id={s.siteId}>
            <h3>{s.name}</h3>
            <p>
              {s.lastSessionAt ? (
                <>Snippet last seen {fmtDateTime(s.lastSessionAt)}</>
              ) : (
                <>Snippet not seen yet: put this tag on every page, before the closing body tag.</>
              )}
            </p>
            <pre className="snippet">
              <code>{`<script src="${window.location.origin}/dni.js" data-site-key="${s.siteKey}" async></script>`}</code>
            </pre>
          </li>
        ))}
      </ul>
      <form
        className="inline"
        aria-label="Add site"
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run(async () => {
            await post('/v1/sites', { name: form.name, domains: [form.domain], defaultNumber: form.defaultNumber });
            setForm({ name: '', domain: '', defaultNumber: '' });
            onAdded();
          });
        }}
      >
        <label>
          Site name
          <input name="siteName" required value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
        </label>
        <label>
          Domain
          <input name="domain" required placeholder="shop.example" value={form.domain} onChange={(e) => setForm({ ...form, domain: e.target.value })} />
        </label>
        <label>
          Number printed on the site
          <input
            name="defaultNumber"
            required
            placeholder="+74951234567"
            value={form.defaultNumber}
            onChange={(e) => setForm({ ...form, defaultNumber: e.target.value })}
          />
        </label>
        <button type="submit" disabled={submit.busy}>
          Add site
        </button>
      </form>
      <ErrorBox error={submit.error} />
    </section>
  );
}

/** Getting started: the admin's first hour, step by step, until every step is done. */
function GettingStarted({ onboarding, reload }: { onboarding: Onboarding; reload: () => void }) {
  const doneCount = onboarding.steps.filter((step) => step.done).length;
  // The server's detail carries an ISO time; people read it in their own time zone and format.
  const latest = onboarding.sites.filter((site) => site.lastSessionAt !== null).sort((a, b) => Date.parse(b.lastSessionAt!) - Date.parse(a.lastSessionAt!))[0];
  const detailOf = (step: OnboardingStep) =>
    step.id === 'snippet' && latest ? `last seen on ${latest.name}, ${fmtDateTime(latest.lastSessionAt)}` : step.detail;
  return (
    <>
      <PageHeader title="Getting started" />
      <section className="card" aria-labelledby="checklist-h">
        <h2 id="checklist-h">
          {doneCount} of {onboarding.steps.length} done
        </h2>
        <ol className="checklist">
          {onboarding.steps.map((s) => (
            <li key={s.id} data-step={s.id} data-done={s.done} className={s.done ? 'done' : undefined}>
              <span className="mark" aria-hidden="true">
                {s.done ? '✓' : '○'}
              </span>
              <Link to={s.href}>{s.title}</Link>
              <span className="sr-only">{s.done ? '(done)' : '(to do)'}</span>
              {detailOf(s) && <span className="detail">{detailOf(s)}</span>}
            </li>
          ))}
        </ol>
        <p>
          <Link to="/calls">Go to the call log</Link>
        </p>
      </section>
      <SiteSnippets sites={onboarding.sites} onAdded={reload} />
    </>
  );
}

/** The home page: the getting-started checklist for admins until it is done, then the call log. */
export function HomePage() {
  const role = useRole();
  const admin = can.manageNumbers(role);
  const onboarding = useAsync(() => (admin ? get<Onboarding>('/v1/onboarding') : Promise.resolve(undefined)), [admin]);
  const { reload } = onboarding;
  // A server without the onboarding route (or an error) must not hide the call log.
  const finished = !admin || onboarding.data?.done === true || (onboarding.error !== undefined && onboarding.data === undefined);
  useEffect(() => {
    if (finished) return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [finished, reload]);
  if (finished) return <CallsPage />;
  if (!onboarding.data) return <Loading what="Getting started" />;
  return <GettingStarted onboarding={onboarding.data} reload={reload} />;
}
