import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { useEffect, useState } from 'react';
import { can, get, post, query } from '../api.tsx';
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
  refusedByClientCap: number;
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
interface NumberGroup {
  kind: 'pool' | 'source' | 'free';
  id: string | null;
  name: string;
  count: number;
}
interface NumbersPageData {
  items: TrackingNumber[];
  total: number;
  nextCursor: string | null;
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
  const size = Math.max(1, u.size);
  // Above 75 % leased, new visitors soon find the pool exhausted (the API's utilisation warning uses the same line).
  const hot = u.leased / size > 0.75;
  return (
    <div className={hot ? 'usage hot' : 'usage'} data-pool-usage={pool.id}>
      <meter min={0} max={size} low={size * 0.5} high={size * 0.75} optimum={0} value={u.leased} aria-label={`${u.leased} of ${u.size} numbers leased`} />
      <span className="leased">
        {u.leased}/{u.size} leased now · {u.free} free
      </span>
      <span className="peak">
        peak {u.peakConcurrent} at once ({Math.round(u.utilisation * 100)}%) · {u.sessions} leases in the last {u.windowHours} h
      </span>
      <span className={u.exhaustedEvents > 0 ? 'warn exhausted' : 'exhausted'}>
        {u.exhaustedEvents} exhaustion events{u.sharedLeases > 0 ? ` · ${u.sharedLeases} shared numbers` : ''}
      </span>
      {u.refusedByClientCap > 0 && <span className="warn refused">{u.refusedByClientCap} refused: one address held too many numbers</span>}
      {u.recommendedSize > 0 && (
        <span className="advised">
          advised size <strong>{u.recommendedSize}</strong>
          {u.recommendedSize > u.size ? ' — add numbers' : ''}
        </span>
      )}
      {hot && (
        <p className="warn gauge-warning" role="status">
          Over 75 % of the pool is leased now: add numbers before visitors see the default number.
        </p>
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

function usedBy(entry: TrackingNumber, groups: NumberGroup[] | undefined): string {
  if (entry.poolId) return `pool ${groups?.find((group) => group.id === entry.poolId)?.name ?? ''}`;
  if (entry.sourceId) return `static source ${groups?.find((group) => group.id === entry.sourceId)?.name ?? ''}`;
  if (entry.quarantineUntil && Date.parse(entry.quarantineUntil) > Date.now()) return `quarantined until ${fmtDateTime(entry.quarantineUntil)}`;
  return 'free';
}

/** National format for people ("8 (495) 123-45-67" style per country), E.164 kept beside it for copying. */
export function nationalFormat(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatNational() ?? e164;
}

const PAGE_SIZE = 50;
type GroupKey = 'all' | 'free' | `pool:${string}` | `source:${string}`;
const groupQuery = (key: GroupKey) =>
  key === 'free' ? { free: 'true' } : key.startsWith('pool:') ? { poolId: key.slice(5) } : key.startsWith('source:') ? { sourceId: key.slice(7) } : {};

/** One page of numbers from the server (keyset paging), for a group and a digit search. */
function NumbersTable({ groups, reloadKey }: { groups: NumberGroup[] | undefined; reloadKey: number }) {
  const [group, setGroup] = useState<GroupKey>('all');
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  // Cursors of the pages before this one: Previous pops, Next pushes.
  const [cursors, setCursors] = useState<string[]>([]);
  useEffect(() => {
    const timer = setTimeout(() => setQ(/\d/.test(search) ? search : ''), 250);
    return () => clearTimeout(timer);
  }, [search]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new group, search or reload starts from page 1
  useEffect(() => setCursors([]), [group, q, reloadKey]);
  const cursor = cursors[cursors.length - 1];
  const page = useAsync(
    () => get<NumbersPageData>(`/v1/numbers${query({ limit: PAGE_SIZE, q, cursor, ...groupQuery(group) })}`),
    [group, q, cursor, reloadKey],
  );
  const freeCount = groups?.find((g) => g.kind === 'free')?.count ?? 0;
  const all = groups?.filter((g) => g.kind !== 'free').reduce((n, g) => n + g.count, freeCount);
  const first = cursors.length * PAGE_SIZE + 1;
  return (
    <>
      <div className="number-tools">
        <fieldset className="groups">
          <legend className="sr-only">Show numbers of</legend>
          {[
            { key: 'all' as GroupKey, label: `All${all !== undefined ? ` (${all})` : ''}` },
            { key: 'free' as GroupKey, label: `Free (${freeCount})` },
            ...(groups ?? [])
              .filter((g) => g.kind !== 'free')
              .map((g) => ({ key: `${g.kind}:${g.id}` as GroupKey, label: `${g.kind === 'pool' ? 'Pool' : 'Source'} ${g.name} (${g.count})` })),
          ].map((g) => (
            <button key={g.key} type="button" className={group === g.key ? '' : 'secondary'} aria-pressed={group === g.key} onClick={() => setGroup(g.key)}>
              {g.label}
            </button>
          ))}
        </fieldset>
        <label>
          Search by digits
          <input type="search" name="q" inputMode="tel" placeholder="495 123 or 8 (495) 12" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
      </div>
      <Section state={page} isEmpty={(d) => d.items.length === 0} empty={q ? 'No number contains these digits.' : 'No numbers here yet.'}>
        {(d) => (
          <>
            <div className="table-wrap">
              <table className="numbers">
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
                      <td>
                        <span className="national">{nationalFormat(x.number)}</span> <span className="muted e164">{x.number}</span>
                      </td>
                      <td>{usedBy(x, groups)}</td>
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
            <nav className="pager" aria-label="Numbers pages">
              <span className="range" role="status">
                {first}–{first + d.items.length - 1} of {d.total}
              </span>
              <button type="button" className="secondary" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
                Previous
              </button>
              <button type="button" className="secondary" disabled={!d.nextCursor} onClick={() => d.nextCursor && setCursors([...cursors, d.nextCursor])}>
                Next
              </button>
            </nav>
          </>
        )}
      </Section>
    </>
  );
}

interface BulkReport {
  added: { line: number; number: string }[];
  rejected: { line: number; text: string; reason: string }[];
}

function BulkAdd({ trunks, onAdded }: { trunks: { id: string; name: string }[] | undefined; onAdded: () => void }) {
  const [form, setForm] = useState({ text: '', trunkId: '', defaultCountry: 'RU' });
  const [report, setReport] = useState<BulkReport | undefined>();
  const submit = useSubmit();
  return (
    <form
      aria-label="Bulk add numbers"
      onSubmit={(e) => {
        e.preventDefault();
        void submit.run(async () => {
          const result = await post<BulkReport>('/v1/numbers/bulk', {
            trunkId: form.trunkId,
            text: form.text,
            defaultCountry: form.defaultCountry || undefined,
          });
          setReport(result);
          if (result.added.length > 0) onAdded();
        });
      }}
    >
      <h3>Bulk add</h3>
      <label>
        Numbers, one per line (a list or CSV with the number first)
        <textarea name="bulk" rows={5} required value={form.text} onChange={(e) => setForm({ ...form, text: e.target.value })} />
      </label>
      <div className="inline">
        <label>
          Trunk
          <select name="bulkTrunkId" required value={form.trunkId} onChange={(e) => setForm({ ...form, trunkId: e.target.value })}>
            <option value="">Choose…</option>
            {trunks?.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Country for national formats
          <input
            name="defaultCountry"
            maxLength={2}
            size={3}
            value={form.defaultCountry}
            onChange={(e) => setForm({ ...form, defaultCountry: e.target.value })}
          />
        </label>
        <button type="submit" disabled={submit.busy}>
          Add all
        </button>
      </div>
      <ErrorBox error={submit.error} />
      {report && (
        <div className="bulk-report" role="status">
          <p>
            Added {report.added.length} {report.added.length === 1 ? 'number' : 'numbers'}
            {report.rejected.length > 0 ? `; ${report.rejected.length} ${report.rejected.length === 1 ? 'line' : 'lines'} not added:` : '.'}
          </p>
          {report.rejected.length > 0 && (
            <ul className="rejected">
              {report.rejected.map((r) => (
                <li key={r.line} data-line={r.line}>
                  Line {r.line}: {r.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </form>
  );
}

export function NumbersPage() {
  const role = useRole();
  const admin = can.manageNumbers(role);
  const groups = useAsync(() => get<{ items: NumberGroup[] }>('/v1/numbers/groups'), []);
  const pools = useAsync(() => get<{ items: Pool[] }>('/v1/pools'), []);
  const trunks = useAsync(() => (admin ? get<{ items: { id: string; name: string }[] }>('/v1/trunks') : Promise.resolve({ items: [] })), [admin]);
  const sites = useAsync(() => get<{ items: { id: string; name: string }[] }>('/v1/sites'), []);
  const [form, setForm] = useState({ number: '', trunkId: '' });
  const [poolForm, setPoolForm] = useState({ name: '', siteId: '', numbers: '', holdSeconds: '1800' });
  const [reloadKey, setReloadKey] = useState(0);
  const numbersChanged = () => {
    setReloadKey((k) => k + 1);
    groups.reload();
  };
  const submit = useSubmit();

  return (
    <>
      <PageHeader title="Numbers & pools" />
      {!admin && <p className="muted">Only administrators can add numbers or build pools.</p>}
      <section className="card" aria-labelledby="numbers-h">
        <h2 id="numbers-h">Tracking numbers</h2>
        <NumbersTable groups={groups.data?.items} reloadKey={reloadKey} />
        {admin && (
          <form
            className="inline"
            aria-label="Add number"
            onSubmit={(e) => {
              e.preventDefault();
              void submit.run(async () => {
                await post('/v1/numbers', form);
                setForm({ ...form, number: '' });
                numbersChanged();
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
        {admin && <BulkAdd trunks={trunks.data?.items} onAdded={numbersChanged} />}
      </section>
      <section className="card" aria-labelledby="pools-h">
        <h2 id="pools-h">Dynamic pools</h2>
        <Section state={pools} isEmpty={(d) => d.items.length === 0} empty="No pools yet.">
          {(d) => (
            <ul className="pools">
              {d.items.map((p) => (
                <li key={p.id} className="pool-card">
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
                numbersChanged();
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
