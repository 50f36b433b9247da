import { useState } from 'react';
import { del, get, patch, post } from '../api.tsx';
import { ErrorBox, Loading, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';

/** Mirrors server/leads/leads.schemas.ts (Sink, Delivery, SinkTestResult). */
interface Delivery {
  id: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'dead' | 'skipped';
  attempts: number;
  lastError: string | null;
  lastStatus: number | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
}
type Kind = 'webhook' | 'amocrm' | 'bitrix24' | 'ga4' | 'metrica' | 'google_ads' | 'metrica_offline' | 'analytics';
interface Sink {
  id: string;
  kind: Kind;
  name: string;
  config: Record<string, unknown>;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
}
interface TestResult {
  outcome: 'delivered' | 'skipped' | 'failed';
  httpStatus: number | null;
  message: string;
  durationMs: number;
}

interface Field {
  key: string;
  label: string;
  secret?: boolean;
  number?: boolean;
  placeholder?: string;
}
/** The settings each kind needs (server/leads/leads.schemas.ts); secrets are write-only. */
const FIELDS: Record<Kind, Field[]> = {
  webhook: [
    { key: 'url', label: 'URL', placeholder: 'https://crm.example/hooks/calls' },
    { key: 'secret', label: 'Signing secret', secret: true, placeholder: 'whsec_… (Standard Webhooks)' },
  ],
  amocrm: [
    { key: 'baseUrl', label: 'Account URL', placeholder: 'https://company.amocrm.ru' },
    { key: 'token', label: 'Long-lived token', secret: true },
  ],
  bitrix24: [
    { key: 'webhookUrl', label: 'Inbound webhook URL', secret: true, placeholder: 'https://portal.bitrix24.ru/rest/1/code' },
    { key: 'userId', label: 'User id the calls are registered to', number: true },
  ],
  ga4: [
    { key: 'measurementId', label: 'Measurement id', placeholder: 'G-XXXXXXX' },
    { key: 'apiSecret', label: 'Measurement Protocol API secret', secret: true },
  ],
  metrica: [
    { key: 'counterId', label: 'Counter id', number: true },
    { key: 'token', label: 'OAuth token', secret: true },
  ],
  google_ads: [
    { key: 'accountId', label: 'Google Ads account id (10 digits)' },
    { key: 'conversionActionId', label: 'Conversion action id' },
    { key: 'token', label: 'OAuth access token', secret: true },
  ],
  metrica_offline: [
    { key: 'counterId', label: 'Counter id', number: true },
    { key: 'target', label: 'Goal identifier' },
    { key: 'token', label: 'OAuth token', secret: true },
  ],
  analytics: [],
};
const KIND_LABEL: Record<Kind, string> = {
  webhook: 'Webhook',
  amocrm: 'amoCRM',
  bitrix24: 'Bitrix24',
  ga4: 'Google Analytics 4',
  metrica: 'Yandex Metrica',
  google_ads: 'Google Ads conversions',
  metrica_offline: 'Metrica offline conversions',
  analytics: 'Built-in analytics store',
};
/** Kinds that take call leads, so a test call means something to them. */
const TAKES_CALLS = new Set<Kind>(['webhook', 'amocrm', 'bitrix24', 'ga4', 'metrica', 'analytics']);

/** A Standard Webhooks secret: "whsec_" and 32 random bytes in base64 (copy it to the receiver). */
function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** Form values → config: numbers as numbers, empty fields left out (on edit: "keep what is stored"). */
function configOf(kind: Kind, values: Record<string, string>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const f of FIELDS[kind]) {
    const v = values[f.key]?.trim();
    if (v) config[f.key] = f.number ? Number(v) : v;
  }
  return config;
}

function ConfigFields({
  kind,
  values,
  onChange,
  editing,
}: {
  kind: Kind;
  values: Record<string, string>;
  onChange(v: Record<string, string>): void;
  editing: boolean;
}) {
  return (
    <>
      {FIELDS[kind].map((f) => (
        <label key={f.key}>
          {f.label}
          {editing && f.secret ? ' (leave empty to keep)' : ''}
          <input
            type={f.secret ? 'password' : f.number ? 'number' : 'text'}
            autoComplete="off"
            required={!editing}
            placeholder={f.placeholder}
            value={values[f.key] ?? ''}
            onChange={(e) => onChange({ ...values, [f.key]: e.target.value })}
          />
          {kind === 'webhook' && f.key === 'secret' && (
            <button type="button" className="secondary" onClick={() => onChange({ ...values, secret: newWebhookSecret() })}>
              Generate a secret
            </button>
          )}
        </label>
      ))}
    </>
  );
}

function Deliveries({ sinkId, reloadKey }: { sinkId: string; reloadKey: number }) {
  const d = useAsync(() => get<{ items: Delivery[] }>(`/v1/sinks/${sinkId}/deliveries`), [sinkId, reloadKey]);
  const submit = useSubmit();
  if (d.error) return <ErrorBox error={d.error} />;
  if (!d.data) return <Loading what="Deliveries" />;
  if (d.data.items.length === 0) return <p className="muted">No deliveries yet.</p>;
  return (
    <div className="table-wrap">
      <table>
        <caption className="sr-only">Latest deliveries</caption>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last error</th>
            <th scope="col">Next attempt</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {d.data.items.slice(0, 10).map((x) => (
            <tr key={x.id} className={x.status === 'dead' ? 'missed' : undefined}>
              <td>{fmtDateTime(x.createdAt)}</td>
              <td>{x.eventType}</td>
              <td>
                {x.status}
                {x.deliveredAt ? ` · ${fmtDateTime(x.deliveredAt)}` : ''}
              </td>
              <td>{x.attempts}</td>
              <td>{x.lastError ?? (x.lastStatus ? `HTTP ${x.lastStatus}` : '—')}</td>
              <td>{fmtDateTime(x.nextAttemptAt)}</td>
              <td>
                {x.status === 'dead' && (
                  <button
                    type="button"
                    className="secondary"
                    disabled={submit.busy}
                    onClick={() =>
                      void submit.run(async () => {
                        await post(`/v1/sinks/${sinkId}/deliveries/${x.id}/replay`);
                        d.reload();
                      })
                    }
                  >
                    Replay
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ErrorBox error={submit.error} />
    </div>
  );
}

function SinkItem({ sink, onChanged }: { sink: Sink; onChanged(): void }) {
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(sink.name);
  const [values, setValues] = useState<Record<string, string>>({});
  const [test, setTest] = useState<TestResult | undefined>();
  const [deliveriesKey, setDeliveriesKey] = useState(0);
  const submit = useSubmit();
  const shown = FIELDS[sink.kind].filter((f) => !f.secret && sink.config[f.key] !== undefined);
  return (
    <li data-sink-id={sink.id}>
      <h3>
        {sink.name} <span className="muted">({sink.kind})</span>{' '}
        {sink.enabled ? (
          <span className="badge ok">enabled</span>
        ) : (
          <span className="badge missed">disabled{sink.disabledReason ? `: ${sink.disabledReason}` : ''}</span>
        )}
      </h3>
      <p className="muted">
        Events: {sink.events.join(', ')}
        {shown.map((f) => ` · ${String(sink.config[f.key])}`).join('')}
      </p>
      <div className="actions">
        {TAKES_CALLS.has(sink.kind) && (
          <button
            type="button"
            className="secondary"
            disabled={submit.busy}
            onClick={() =>
              void submit.run(async () => {
                setTest(undefined);
                setTest(await post<TestResult>(`/v1/sinks/${sink.id}/test`));
                setDeliveriesKey((n) => n + 1);
              })
            }
          >
            Send test lead
          </button>
        )}
        <button type="button" className="secondary" onClick={() => setEditing(!editing)} aria-expanded={editing}>
          Edit
        </button>
        <button
          type="button"
          className="secondary"
          disabled={submit.busy}
          onClick={() => void submit.run(() => post(`/v1/sinks/${sink.id}/${sink.enabled ? 'disable' : 'enable'}`).then(onChanged))}
        >
          {sink.enabled ? 'Disable' : 'Enable'}
        </button>
        <button
          type="button"
          className="secondary"
          disabled={submit.busy}
          onClick={() => {
            if (window.confirm(`Delete ${sink.name} and its delivery log?`)) void submit.run(() => del(`/v1/sinks/${sink.id}`).then(onChanged));
          }}
        >
          Delete
        </button>
      </div>
      {test && (
        <p role="status" className={test.outcome === 'failed' ? 'error' : undefined}>
          Test lead {test.outcome}
          {test.httpStatus ? ` (HTTP ${test.httpStatus})` : ''} in {test.durationMs} ms: {test.message}
        </p>
      )}
      {editing && (
        <form
          className="inline-form"
          aria-label={`Edit ${sink.name}`}
          onSubmit={(e) => {
            e.preventDefault();
            void submit.run(async () => {
              await patch(`/v1/sinks/${sink.id}`, { name, config: configOf(sink.kind, values) });
              setEditing(false);
              setValues({});
              onChanged();
            });
          }}
        >
          <label>
            Name
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <ConfigFields kind={sink.kind} values={values} onChange={setValues} editing />
          <button type="submit" disabled={submit.busy}>
            Save
          </button>
        </form>
      )}
      <ErrorBox error={submit.error} />
      <Deliveries sinkId={sink.id} reloadKey={deliveriesKey} />
    </li>
  );
}

/** Where leads go: add a CRM, webhook or analytics sink, edit it, send it a test lead, and watch its deliveries. */
export function Sinks() {
  const [reload, setReload] = useState(0);
  const sinks = useAsync(() => get<{ items: Sink[] }>('/v1/sinks'), [reload]);
  const [kind, setKind] = useState<Kind>('webhook');
  const [name, setName] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const submit = useSubmit();
  const changed = () => setReload((n) => n + 1);
  return (
    <section className="card" aria-labelledby="sinks-h">
      <h2 id="sinks-h">Lead sinks</h2>
      <Section state={sinks} isEmpty={(d) => d.items.length === 0} empty="No sinks: completed calls are not sent anywhere yet.">
        {(d) => (
          <ul className="plain">
            {d.items.map((x) => (
              <SinkItem key={`${x.id}-${reload}`} sink={x} onChanged={changed} />
            ))}
          </ul>
        )}
      </Section>
      <form
        aria-labelledby="new-sink-h"
        onSubmit={(e) => {
          e.preventDefault();
          void submit.run(async () => {
            await post('/v1/sinks', { kind, ...(name ? { name } : {}), config: configOf(kind, values) });
            setName('');
            setValues({});
            changed();
          });
        }}
      >
        <h3 id="new-sink-h">Add a sink</h3>
        <label>
          Kind
          <select
            value={kind}
            onChange={(e) => {
              setKind(e.target.value as Kind);
              setValues({});
            }}
          >
            {(Object.keys(KIND_LABEL) as Kind[]).map((k) => (
              <option key={k} value={k}>
                {KIND_LABEL[k]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input value={name} placeholder={KIND_LABEL[kind]} onChange={(e) => setName(e.target.value)} />
        </label>
        <ConfigFields kind={kind} values={values} onChange={setValues} editing={false} />
        <button type="submit" disabled={submit.busy}>
          Add sink
        </button>
        <ErrorBox error={submit.error} />
      </form>
    </section>
  );
}
