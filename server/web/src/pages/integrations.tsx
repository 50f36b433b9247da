import { useState } from 'react';
import { get, post } from '../api.tsx';
import { useRole } from '../app.tsx';
import { ErrorBox, PageHeader, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';
import { Sinks } from './sinks.tsx';

/** Mirrors server/sites/sites.schemas.ts, server/analytics/cost-sources.schemas.ts and deals.schemas.ts (CrmInbound). */
interface Site {
  id: string;
  name: string;
  domains: string[];
  siteKey: string;
}
interface CostSource {
  id: string;
  kind: 'yandex_direct' | 'google_ads';
  name: string;
  enabled: boolean;
  pulledThrough: string | null;
  nextPullAt: string;
  lastPullAt: string | null;
  lastError: string | null;
}
interface CrmInbound {
  amocrm: { url: string; token: string } | null;
  bitrix24: { url: string; configured: boolean; qualifiedStages: string[] } | null;
}

const KIND_LABEL = { yandex_direct: 'Yandex Direct', google_ads: 'Google Ads' } as const;

/** Where the outside world plugs in: the snippet per site, lead sinks, ad cost sources, and CRM webhook URLs. */
export function IntegrationsPage() {
  const role = useRole();
  const editor = role === 'admin' || role === 'marketer';
  const [reload, setReload] = useState(0);
  const sites = useAsync(() => get<{ items: Site[] }>('/v1/sites'), []);
  const sources = useAsync(() => get<{ items: CostSource[] }>('/v1/cost-sources'), [reload]);
  const crm = useAsync(() => (role === 'admin' ? get<CrmInbound>('/v1/crm/inbound') : Promise.resolve(null)), [reload, role]);
  const submit = useSubmit();
  const origin = window.location.origin;

  return (
    <>
      <PageHeader title="Integrations" />
      <h2>Website snippet</h2>
      <Section state={sites} isEmpty={(d) => d.items.length === 0} empty="No sites yet.">
        {(d) => (
          <ul className="cards">
            {d.items.map((s) => (
              <li key={s.id} className="card">
                <h3>{s.name}</h3>
                <p>{s.domains.join(', ')}</p>
                <label>
                  Snippet for {s.name}
                  <input readOnly value={`<script src="${origin}/dni.js" data-site-key="${s.siteKey}" async></script>`} onFocus={(e) => e.target.select()} />
                </label>
              </li>
            ))}
          </ul>
        )}
      </Section>

      {role === 'admin' && <Sinks />}

      <h2>Ad cost sources</h2>
      <ErrorBox error={submit.error} />
      <Section state={sources} isEmpty={(d) => d.items.length === 0} empty="No cost source connected (POST /v1/cost-sources), or upload a CSV.">
        {(d) => (
          <div className="table-wrap">
            <table className="cost-sources">
              <thead>
                <tr>
                  <th scope="col">Source</th>
                  <th scope="col">Complete through</th>
                  <th scope="col">Last pull</th>
                  <th scope="col">Next pull</th>
                  <th scope="col">Last error</th>
                  {editor && <th scope="col">Pull</th>}
                </tr>
              </thead>
              <tbody>
                {d.items.map((s) => (
                  <tr key={s.id}>
                    <th scope="row">
                      {s.name} ({KIND_LABEL[s.kind]})
                    </th>
                    <td>{s.pulledThrough ?? '—'}</td>
                    <td>{fmtDateTime(s.lastPullAt)}</td>
                    <td>{fmtDateTime(s.nextPullAt)}</td>
                    <td>{s.lastError ?? '—'}</td>
                    {editor && (
                      <td>
                        <button
                          type="button"
                          className="secondary"
                          disabled={submit.busy}
                          onClick={() => void submit.run(() => post(`/v1/cost-sources/${s.id}/pull`).finally(() => setReload((n) => n + 1)))}
                        >
                          Pull now
                        </button>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      {editor && <ConnectCostSource onConnected={() => setReload((n) => n + 1)} />}

      {role === 'admin' && (
        <>
          <h2>CRM deals in</h2>
          <Section state={crm} isEmpty={() => false} empty="">
            {(d) => (
              <dl className="crm-inbound">
                <dt>amoCRM webhook URL</dt>
                <dd>
                  {d?.amocrm ? <code>{d.amocrm.url}</code> : 'not created'}{' '}
                  <button
                    type="button"
                    className="secondary"
                    disabled={submit.busy}
                    onClick={() => void submit.run(() => post('/v1/crm/inbound/amocrm', {}).then(() => setReload((n) => n + 1)))}
                  >
                    {d?.amocrm ? 'Rotate' : 'Create'}
                  </button>
                </dd>
                <dt>Bitrix24 outgoing webhook (ONCRMDEALUPDATE)</dt>
                <dd>
                  <code>{`${origin}/v1/crm/bitrix24`}</code> ·{' '}
                  {d?.bitrix24 ? 'application token set' : 'set the application token with PUT /v1/crm/inbound/bitrix24'}
                </dd>
              </dl>
            )}
          </Section>
        </>
      )}
    </>
  );
}

/** The fields each connector needs (server/analytics/cost-sources.schemas.ts); tokens are write-only. */
const COST_FIELDS = {
  yandex_direct: [
    { key: 'token', label: 'OAuth token', secret: true, required: true },
    { key: 'clientLogin', label: 'Client login (agency accounts)', secret: false, required: false },
    { key: 'currency', label: 'Account currency', secret: false, required: false },
  ],
  google_ads: [
    { key: 'customerId', label: 'Customer id (10 digits)', secret: false, required: true },
    { key: 'developerToken', label: 'Developer token', secret: true, required: true },
    { key: 'token', label: 'OAuth access token', secret: true, required: true },
    { key: 'loginCustomerId', label: 'Manager (login) customer id', secret: false, required: false },
    { key: 'currency', label: 'Account currency', secret: false, required: false },
  ],
} as const;

/** Connects Yandex Direct or Google Ads: costs are then pulled daily, and backfilled on "Pull now". */
function ConnectCostSource({ onConnected }: { onConnected(): void }) {
  const [kind, setKind] = useState<keyof typeof COST_FIELDS>('yandex_direct');
  const [name, setName] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const submit = useSubmit();
  return (
    <form
      aria-labelledby="connect-cost-h"
      onSubmit={(e) => {
        e.preventDefault();
        const config = Object.fromEntries(COST_FIELDS[kind].flatMap((f) => (values[f.key]?.trim() ? [[f.key, values[f.key]!.trim()]] : [])));
        void submit.run(async () => {
          await post('/v1/cost-sources', { kind, name: name || KIND_LABEL[kind], config });
          setValues({});
          setName('');
          onConnected();
        });
      }}
    >
      <h3 id="connect-cost-h">Connect an ad account</h3>
      <label>
        Ad platform
        <select
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as keyof typeof COST_FIELDS);
            setValues({});
          }}
        >
          <option value="yandex_direct">{KIND_LABEL.yandex_direct}</option>
          <option value="google_ads">{KIND_LABEL.google_ads}</option>
        </select>
      </label>
      <label>
        Name
        <input value={name} placeholder={KIND_LABEL[kind]} onChange={(e) => setName(e.target.value)} />
      </label>
      {COST_FIELDS[kind].map((f) => (
        <label key={f.key}>
          {f.label}
          <input
            type={f.secret ? 'password' : 'text'}
            autoComplete="off"
            required={f.required}
            value={values[f.key] ?? ''}
            onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
          />
        </label>
      ))}
      <button type="submit" disabled={submit.busy}>
        Connect
      </button>
      <ErrorBox error={submit.error} />
    </form>
  );
}
