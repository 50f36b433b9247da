import { useState } from 'react';
import { can, get, post } from '../api.tsx';
import { useRole } from '../app.tsx';
import { ErrorBox, Loading, PageHeader, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';

/** Mirrors server/numbers, server/pools and server/pools/pools-usage.routes.ts. */
interface TrackingNumber {
  id: string;
  number: string;
  trunkId: string;
  poolId: string | null;
  sourceId: string | null;
  dialplan: string | null;
  quarantineUntil: string | null;
  createdAt: string;
}
interface Pool {
  id: string;
  siteId: string;
  name: string;
  numbers: string[];
  holdSeconds: number;
  maxLeaseSeconds: number;
  exhaustionPolicy: string;
  dialplan: string | null;
  createdAt: string;
}
interface PoolUsage {
  poolId: string;
  windowHours: number;
  from: string;
  to: string;
  size: number;
  leased: number;
  free: number;
  exhaustedEvents: number;
  sharedLeases: number;
  sessions: number;
  peakConcurrent: number;
  peakDemand: number;
  utilisation: number;
  recommendedSize: number;
  warning: string | null;
  callDelays: { calls: number; p50Seconds: number; p90Seconds: number; p99Seconds: number; maxSeconds: number; histogram: DelayBucket[] };
  cooldownSeconds: number;
  cooldownLearned: boolean;
  expectedAccuracy: number | null;
  sizeForTargetAccuracy: number | null;
  visitors: number;
  ruleOfThumbSize: number;
  exactPrecision: { checked: number; confirmed: number; precision: number | null };
}
interface DelayBucket {
  upToSeconds: number | null;
  calls: number;
}
interface SourceName {
  id: string;
  name: string;
}

const fmtSeconds = (s: number) => (s >= 120 ? `${Math.round(s / 60)} min` : `${s} s`);

/** Calls by delay after the caller's last activity on the site: how late people call decides the pool size. */
function DelayChart({ buckets }: { buckets: DelayBucket[] }) {
  const most = Math.max(1, ...buckets.map((b) => b.calls));
  const width = 28;
  const height = 60;
  return (
    <figure className="delay-chart">
      <svg
        viewBox={`0 0 ${buckets.length * width} ${height + 14}`}
        width={buckets.length * width}
        height={height + 14}
        role="img"
        aria-label="Calls by delay after last activity"
      >
        {buckets.map((b, i) => {
          const barHeight = Math.round((b.calls / most) * height);
          const label = b.upToSeconds === null ? 'more' : `≤${fmtSeconds(b.upToSeconds)}`;
          return (
            <g key={label}>
              <title>{`${label}: ${b.calls} call(s)`}</title>
              <rect x={i * width + 3} y={height - barHeight} width={width - 6} height={barHeight} fill="currentColor" opacity={0.7} />
              <text x={i * width + width / 2} y={height + 11} fontSize={8} textAnchor="middle">
                {label}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">calls by delay after the caller’s last activity</figcaption>
    </figure>
  );
}

function PoolSizing({ u }: { u: PoolUsage }) {
  const d = u.callDelays;
  return (
    <div className="sizing" data-pool-sizing>
      {d.calls > 0 ? (
        <>
          <span className="delays">
            {d.calls} calls measured · delay after last activity p50 {fmtSeconds(d.p50Seconds)} · p90 {fmtSeconds(d.p90Seconds)} · p99{' '}
            {fmtSeconds(d.p99Seconds)}
          </span>
          <DelayChart buckets={d.histogram} />
        </>
      ) : (
        <span className="muted">no attributed calls measured yet</span>
      )}
      <span className="cooldown">
        cool-down {fmtSeconds(u.cooldownSeconds)} {u.cooldownLearned ? '(learned: p99 of delays)' : '(default until 20 calls are measured)'}
      </span>
      {u.expectedAccuracy !== null && (
        <span className="expected">
          expected accuracy at {u.size} numbers: {(u.expectedAccuracy * 100).toFixed(1)} %
        </span>
      )}
      {u.sizeForTargetAccuracy !== null && (
        <span className="target">
          size for 99.5 %: <strong>{u.sizeForTargetAccuracy}</strong>
        </span>
      )}
      {u.exactPrecision.precision !== null && (
        <span className="precision">
          “exact” confirmed by repeat callers: {u.exactPrecision.confirmed}/{u.exactPrecision.checked} ({(u.exactPrecision.precision * 100).toFixed(1)} %)
        </span>
      )}
      <span className="rule muted">
        rule of thumb (1 per 20 daily visitors): {u.ruleOfThumbSize} for {u.visitors} visitors in {u.windowHours} h
      </span>
    </div>
  );
}

function PoolUsageView({ pool }: { pool: Pool }) {
  const usage = useAsync(() => get<PoolUsage>(`/v1/pools/${pool.id}/usage`), [pool.id]);
  if (usage.error) return <ErrorBox error={usage.error} />;
  if (!usage.data) return <Loading what="Usage" />;
  const u = usage.data;
  return (
    <div className="usage" data-pool-usage={pool.id}>
      <meter min={0} max={Math.max(1, u.size)} value={u.leased} aria-label={`${u.leased} of ${u.size} numbers leased`} />
      <span className="leased">
        {u.leased}/{u.size} leased now · {u.free} free
      </span>
      <span className="peak">
        peak {u.peakConcurrent} at once ({Math.round(u.utilisation * 100)}%) · {u.sessions} leases in the last {u.windowHours} h
      </span>
      <span className={u.exhaustedEvents > 0 ? 'warn exhausted' : 'exhausted'}>
        {u.exhaustedEvents} exhaustion events{u.sharedLeases > 0 ? ` · ${u.sharedLeases} shared numbers` : ''}
      </span>
      {u.recommendedSize > 0 && (
        <span className="advised">
          advised size <strong>{u.recommendedSize}</strong>
          {u.recommendedSize > u.size ? ' — add numbers' : ''}
        </span>
      )}
      {u.warning && (
        <p className="warn" role="status">
          {u.warning}
        </p>
      )}
      <PoolSizing u={u} />
    </div>
  );
}

function usedBy(x: TrackingNumber, pools: Pool[] | undefined, sources: SourceName[] | undefined): string {
  if (x.poolId) return `pool ${pools?.find((p) => p.id === x.poolId)?.name ?? ''}`;
  if (x.sourceId) return `static source ${sources?.find((s) => s.id === x.sourceId)?.name ?? ''}`;
  if (x.quarantineUntil && Date.parse(x.quarantineUntil) > Date.now()) return `quarantined until ${fmtDateTime(x.quarantineUntil)}`;
  return 'free';
}

export function NumbersPage() {
  const role = useRole();
  const admin = can.manageNumbers(role);
  const numbers = useAsync(() => get<{ items: TrackingNumber[] }>('/v1/numbers'), []);
  const pools = useAsync(() => get<{ items: Pool[] }>('/v1/pools'), []);
  const trunks = useAsync(() => (admin ? get<{ items: { id: string; name: string }[] }>('/v1/trunks') : Promise.resolve({ items: [] })), [admin]);
  const sources = useAsync(() => get<{ items: SourceName[] }>('/v1/sources'), []);
  const sites = useAsync(() => get<{ items: { id: string; name: string }[] }>('/v1/sites'), []);
  const [form, setForm] = useState({ number: '', trunkId: '' });
  const [poolForm, setPoolForm] = useState({ name: '', siteId: '', numbers: '', holdSeconds: '1800' });
  const submit = useSubmit();

  return (
    <>
      <PageHeader title="Numbers & pools" />
      {!admin && <p className="muted">Only administrators can add numbers or build pools.</p>}
      <section className="card" aria-labelledby="numbers-h">
        <h2 id="numbers-h">Tracking numbers</h2>
        <Section state={numbers} isEmpty={(d) => d.items.length === 0} empty="No numbers yet.">
          {(d) => (
            <div className="table-wrap">
              <table>
                <caption className="sr-only">Tracking numbers</caption>
                <thead>
                  <tr>
                    <th scope="col">Number</th>
                    <th scope="col">Used by</th>
                    <th scope="col">Dialplan</th>
                    <th scope="col">Print</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((x) => (
                    <tr key={x.id} data-number={x.number}>
                      <td>{x.number}</td>
                      <td>{usedBy(x, pools.data?.items, sources.data?.items)}</td>
                      <td>{x.dialplan ?? '—'}</td>
                      <td>
                        {x.sourceId ? (
                          // Same-origin image: the session cookie authenticates it (an <img> cannot send a Bearer header).
                          <a href={`/v1/sources/${x.sourceId}/qr.svg?number=${encodeURIComponent(x.number)}`} target="_blank" rel="noreferrer">
                            <img
                              className="qr qr-thumb"
                              src={`/v1/sources/${x.sourceId}/qr.svg?number=${encodeURIComponent(x.number)}`}
                              alt={`QR code that dials ${x.number}`}
                              width={64}
                              height={64}
                            />
                          </a>
                        ) : (
                          '—'
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </Section>
        {admin && (
          <form
            className="inline"
            aria-label="Add number"
            onSubmit={(e) => {
              e.preventDefault();
              void submit.run(async () => {
                await post('/v1/numbers', form);
                setForm({ ...form, number: '' });
                numbers.reload();
              });
            }}
          >
            <label>
              Number (E.164)
              <input name="number" required placeholder="+74951234567" value={form.number} onChange={(e) => setForm({ ...form, number: e.target.value })} />
            </label>
            <label>
              Trunk
              <select name="trunkId" required value={form.trunkId} onChange={(e) => setForm({ ...form, trunkId: e.target.value })}>
                <option value="">Choose…</option>
                {trunks.data?.items.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" disabled={submit.busy}>
              Add number
            </button>
          </form>
        )}
      </section>
      <section className="card" aria-labelledby="pools-h">
        <h2 id="pools-h">Dynamic pools</h2>
        <Section state={pools} isEmpty={(d) => d.items.length === 0} empty="No pools yet.">
          {(d) => (
            <ul className="pools">
              {d.items.map((p) => (
                <li key={p.id}>
                  <h3>{p.name}</h3>
                  <p className="muted">
                    {p.numbers.length} numbers · hold {Math.round(p.holdSeconds / 60)} min · when exhausted: {p.exhaustionPolicy.replace('_', ' ')}
                  </p>
                  <PoolUsageView pool={p} />
                </li>
              ))}
            </ul>
          )}
        </Section>
        {admin && (
          <form
            aria-label="New pool"
            onSubmit={(e) => {
              e.preventDefault();
              void submit.run(async () => {
                await post('/v1/pools', {
                  name: poolForm.name,
                  siteId: poolForm.siteId,
                  holdSeconds: Number(poolForm.holdSeconds),
                  numbers: poolForm.numbers.split(/[\s,]+/).filter(Boolean),
                });
                setPoolForm({ ...poolForm, name: '', numbers: '' });
                pools.reload();
                numbers.reload();
              });
            }}
          >
            <h3>New pool</h3>
            <label>
              Name
              <input required value={poolForm.name} onChange={(e) => setPoolForm({ ...poolForm, name: e.target.value })} />
            </label>
            <label>
              Site
              <select required value={poolForm.siteId} onChange={(e) => setPoolForm({ ...poolForm, siteId: e.target.value })}>
                <option value="">Choose…</option>
                {sites.data?.items.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Hold after last keep-alive (s)
              <input type="number" min={0} value={poolForm.holdSeconds} onChange={(e) => setPoolForm({ ...poolForm, holdSeconds: e.target.value })} />
            </label>
            <label>
              Numbers (comma or space separated)
              <textarea rows={2} value={poolForm.numbers} onChange={(e) => setPoolForm({ ...poolForm, numbers: e.target.value })} />
            </label>
            <button type="submit" disabled={submit.busy}>
              Create pool
            </button>
          </form>
        )}
      </section>
      <ErrorBox error={submit.error} />
    </>
  );
}
