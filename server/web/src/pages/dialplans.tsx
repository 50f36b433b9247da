import { useState } from 'react';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { ApiError, get, post, put } from '../api.tsx';
import { useRole } from '../app.tsx';
import { ErrorBox, PageHeader, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';

/** Mirrors server/dialplans/dialplans.routes.ts (DialplanStatus) and stored-dialplans.routes.ts (Version). */
interface PlanStatus {
  name: string;
  source: 'file' | 'stored';
  readOnly: boolean;
  version: number | null;
  file: string | null;
  lastError: string | null;
}
type Step = Record<string, unknown>;
interface Plan {
  name: string;
  description?: string;
  record?: boolean;
  steps: Step[];
}
interface Version {
  version: number;
  note: string | null;
  savedBy: string | null;
  createdAt: string;
}

const KINDS = ['forward', 'queue', 'announce', 'voicemail', 'hangup', 'menu', 'hours', 'route'] as const;
/** Steps with nested steps are edited as YAML inside the list; the rest get a form. */
const FORM_KINDS = new Set(['forward', 'queue', 'announce', 'voicemail', 'hangup']);
const kindOf = (step: Step) => Object.keys(step)[0] ?? 'hangup';
const NEW_STEP: Record<(typeof KINDS)[number], Step> = {
  forward: { forward: { targets: ['extension:101'], strategy: 'simultaneous', ringSeconds: 20 } },
  queue: { queue: 'support' },
  announce: { announce: { file: 'welcome.wav' } },
  voicemail: { voicemail: { maxSeconds: 120 } },
  hangup: { hangup: {} },
  menu: { menu: { prompt: 'menu.wav', options: { '1': [{ forward: { targets: ['group:sales'] } }] } } },
  hours: {
    hours: { timezone: 'Europe/Moscow', open: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '18:00' }], closed: [{ voicemail: {} }] },
  },
  route: { route: { rules: [{ when: { caller: 'repeat' }, steps: [{ forward: { targets: ['last-agent'] } }] }] } },
};

/** "steps[2].forward.targets[0]: …" → 2: the step of the plan's top level a validation error points at. */
const stepOfError = (message: string) => {
  const m = /^steps\[(\d+)\]/.exec(message);
  return m ? Number(m[1]) : undefined;
};

function StepForm({ step, onChange, disabled }: { step: Step; onChange(s: Step): void; disabled: boolean }) {
  const kind = kindOf(step);
  const body = (step[kind] ?? {}) as Record<string, unknown>;
  const set = (patch: Record<string, unknown>) => onChange({ [kind]: { ...body, ...patch } });
  const [yamlText, setYamlText] = useState(() => toYaml(body));
  if (kind === 'forward')
    return (
      <>
        <label>
          Targets, one per line (extension:101, group:sales, tel:+7…, sip:user@host, last-agent)
          <textarea
            rows={3}
            disabled={disabled}
            value={((body.targets as string[] | undefined) ?? []).join('\n')}
            onChange={(e) =>
              set({
                targets: e.target.value
                  .split('\n')
                  .map((t) => t.trim())
                  .filter(Boolean),
              })
            }
          />
        </label>
        <label>
          Strategy
          <select disabled={disabled} value={String(body.strategy ?? 'simultaneous')} onChange={(e) => set({ strategy: e.target.value })}>
            <option value="simultaneous">all at once</option>
            <option value="sequential">one after another</option>
            <option value="round-robin">round-robin</option>
          </select>
        </label>
        <label>
          Ring seconds
          <input
            type="number"
            min={1}
            max={300}
            disabled={disabled}
            value={Number(body.ringSeconds ?? 20)}
            onChange={(e) => set({ ringSeconds: Number(e.target.value) })}
          />
        </label>
      </>
    );
  if (kind === 'queue')
    return (
      <label>
        Queue (callers wait there for an agent; the next step runs after the maximum wait or with nobody logged in)
        <input disabled={disabled} value={String(step.queue ?? '')} onChange={(e) => onChange({ queue: e.target.value.trim() })} />
      </label>
    );
  if (kind === 'announce')
    return (
      <label>
        Prompt file (in dialplans/prompts)
        <input disabled={disabled} value={String(body.file ?? '')} onChange={(e) => set({ file: e.target.value })} />
      </label>
    );
  if (kind === 'voicemail')
    return (
      <label>
        Longest message (seconds)
        <input
          type="number"
          min={5}
          max={600}
          disabled={disabled}
          value={Number(body.maxSeconds ?? 120)}
          onChange={(e) => set({ maxSeconds: Number(e.target.value) })}
        />
      </label>
    );
  if (kind === 'hangup')
    return (
      <label>
        SIP status (empty: 480, or 486 after a busy forward)
        <input
          type="number"
          min={400}
          max={699}
          disabled={disabled}
          value={body.status === undefined ? '' : Number(body.status)}
          onChange={(e) => onChange({ hangup: e.target.value ? { status: Number(e.target.value) } : {} })}
        />
      </label>
    );
  return (
    <label>
      {kind} (YAML)
      <textarea
        rows={6}
        disabled={disabled}
        value={yamlText}
        onChange={(e) => {
          setYamlText(e.target.value);
          try {
            onChange({ [kind]: parseYaml(e.target.value) });
          } catch {
            // Keep typing; the server names what is wrong on save.
          }
        }}
      />
    </label>
  );
}

function PlanEditor({ status, onSaved }: { status: PlanStatus; onSaved(): void }) {
  const admin = useRole() === 'admin';
  const editable = admin && !status.readOnly;
  const loaded = useAsync(() => get<Plan>(`/v1/dialplans/${status.name}`), [status.name, status.version]);
  const versions = useAsync(
    () => (status.source === 'stored' ? get<{ items: Version[] }>(`/v1/dialplans/${status.name}/versions`) : Promise.resolve({ items: [] })),
    [status.name, status.version],
  );
  const [steps, setSteps] = useState<Step[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  /** Bumped when steps move, appear or go: their forms (and YAML drafts) remount in the new order. */
  const [layout, setLayout] = useState(0);
  const restructure = (next: Step[] | undefined) => {
    setSteps(next);
    setLayout((n) => n + 1);
  };
  const submit = useSubmit();
  const current = steps ?? loaded.data?.steps ?? [];
  const failedStep = error ? stepOfError(error) : undefined;
  const update = (i: number, step: Step) => setSteps(current.map((s, j) => (j === i ? step : s)));
  const move = (i: number, by: number) => {
    const next = [...current];
    const [taken] = next.splice(i, 1);
    next.splice(i + by, 0, taken!);
    restructure(next);
  };
  const save = () =>
    void submit.run(async () => {
      setError(undefined);
      try {
        await put(`/v1/dialplans/${status.name}`, { definition: { ...(loaded.data?.record === false ? { record: false } : {}), steps: current } });
        restructure(undefined);
        onSaved();
      } catch (err) {
        if (err instanceof ApiError && err.status === 400) setError(err.message);
        else throw err;
      }
    });
  return (
    <Section state={loaded} isEmpty={() => false} empty="">
      {() => (
        <div className="plan-editor">
          {status.readOnly && <p className="muted">From {status.file}: edit the file on the server (read-only here).</p>}
          {error && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <ol className="steps">
            {current.map((step, i) => (
              <li key={`${layout}-${i}`} className={failedStep === i ? 'step invalid' : 'step'} aria-invalid={failedStep === i || undefined}>
                <fieldset>
                  <legend>
                    Step {i + 1}: {kindOf(step)}
                  </legend>
                  {FORM_KINDS.has(kindOf(step)) || !editable ? null : <span className="muted">nested steps as YAML</span>}
                  <StepForm step={step} onChange={(s) => update(i, s)} disabled={!editable} />
                  {editable && (
                    <div className="actions">
                      <button type="button" className="secondary" disabled={i === 0} onClick={() => move(i, -1)}>
                        Up
                      </button>
                      <button type="button" className="secondary" disabled={i === current.length - 1} onClick={() => move(i, 1)}>
                        Down
                      </button>
                      <button type="button" className="secondary" onClick={() => restructure(current.filter((_, j) => j !== i))}>
                        Remove step {i + 1}
                      </button>
                    </div>
                  )}
                </fieldset>
              </li>
            ))}
          </ol>
          {editable && (
            <div className="actions">
              <label>
                Add a step
                <select value="" onChange={(e) => e.target.value && restructure([...current, NEW_STEP[e.target.value as (typeof KINDS)[number]]])}>
                  <option value="">choose…</option>
                  {KINDS.map((k) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
                </select>
              </label>
              <button type="button" disabled={submit.busy} onClick={save}>
                Save as a new version
              </button>
            </div>
          )}
          <ErrorBox error={submit.error} />
          {status.source === 'stored' && (
            <Section state={versions} isEmpty={(d) => d.items.length === 0} empty="">
              {(d) => (
                <table className="versions">
                  <caption>Versions of {status.name}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Version</th>
                      <th scope="col">Saved</th>
                      <th scope="col">By</th>
                      <th scope="col">Note</th>
                      <th scope="col">
                        <span className="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.items.map((v) => (
                      <tr key={v.version}>
                        <td>{v.version === status.version ? `${v.version} (in use)` : v.version}</td>
                        <td>{fmtDateTime(v.createdAt)}</td>
                        <td>{v.savedBy ?? '—'}</td>
                        <td>{v.note ?? '—'}</td>
                        <td>
                          {editable && v.version !== status.version && (
                            <button
                              type="button"
                              className="secondary"
                              disabled={submit.busy}
                              onClick={() => void submit.run(() => post(`/v1/dialplans/${status.name}/rollback`, { version: v.version }).then(onSaved))}
                            >
                              Roll back to {v.version}
                            </button>
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Section>
          )}
        </div>
      )}
    </Section>
  );
}

/** Call flows: YAML files (read-only) and flows saved here, edited as a list of steps with versions. */
export function DialplansPage() {
  const admin = useRole() === 'admin';
  const [reload, setReload] = useState(0);
  const plans = useAsync(() => get<{ items: PlanStatus[] }>('/v1/dialplans'), [reload]);
  const [open, setOpen] = useState<string | undefined>();
  const [name, setName] = useState('');
  const submit = useSubmit();
  return (
    <>
      <PageHeader title="Call flows" />
      <Section state={plans} isEmpty={(d) => d.items.length === 0} empty="No call flows yet.">
        {(d) => (
          <ul className="plain">
            {d.items.map((p) => (
              <li key={`${p.source}-${p.name}`} data-plan={p.name}>
                <h2>
                  <button type="button" className="link" aria-expanded={open === p.name} onClick={() => setOpen(open === p.name ? undefined : p.name)}>
                    {p.name}
                  </button>{' '}
                  <span className="muted">{p.source === 'file' ? `file ${p.file}` : `version ${p.version}`}</span>
                </h2>
                {p.lastError && <p className="error">{p.lastError}</p>}
                {open === p.name && <PlanEditor status={p} onSaved={() => setReload((n) => n + 1)} />}
              </li>
            ))}
          </ul>
        )}
      </Section>
      {admin && (
        <form
          aria-labelledby="new-plan-h"
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              await post('/v1/dialplans', { name, definition: { steps: [NEW_STEP.forward, NEW_STEP.voicemail] } });
              setOpen(name);
              setName('');
              setReload((n) => n + 1);
            });
          }}
        >
          <h2 id="new-plan-h">New call flow</h2>
          <label>
            Name
            <input required pattern="[A-Za-z0-9][A-Za-z0-9_\-]{0,63}" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <button type="submit" disabled={submit.busy}>
            Create
          </button>
          <ErrorBox error={submit.error} />
        </form>
      )}
    </>
  );
}
