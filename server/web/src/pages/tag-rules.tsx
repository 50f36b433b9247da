import { useState } from 'react';
import { can, del, get, post } from '../api.tsx';
import { useRole } from '../app.tsx';
import { ErrorBox, PageHeader, Section, useAsync, useSubmit } from '../ui.tsx';

interface TagRule { id: string; name?: string; tag: string; conditions?: Record<string, unknown> | unknown[]; enabled?: boolean }
const KINDS = [
  { value: 'talkSecondsOver', label: 'Talk time over N seconds', needs: 'number' },
  { value: 'missed', label: 'Missed call', needs: '' },
  { value: 'firstTime', label: 'First-time caller', needs: '' },
  { value: 'source', label: 'Source is', needs: 'text' },
  { value: 'campaign', label: 'Campaign is', needs: 'text' },
  { value: 'ivrDigit', label: 'IVR digit pressed', needs: 'text' },
] as const;

const describe = (c: TagRule['conditions']) => (c === undefined ? '—' : Object.entries(c as Record<string, unknown>).map(([k, v]) => (typeof v === 'object' ? `${k}: ${JSON.stringify(v)}` : `${k} = ${String(v)}`)).join(' and '));

export function TagRulesPage() {
  const role = useRole();
  const rules = useAsync(() => get<{ items: TagRule[] }>('/v1/tag-rules'), []);
  const [tag, setTag] = useState('');
  const [kind, setKind] = useState<(typeof KINDS)[number]['value']>('talkSecondsOver');
  const [value, setValue] = useState('');
  const submit = useSubmit();
  const needs = KINDS.find((k) => k.value === kind)!.needs;
  return (
    <>
      <PageHeader title="Tag rules" />
      <p className="muted">Rules tag every new call automatically when its conditions hold.</p>
      <section className="card" aria-labelledby="rules-h">
        <h2 id="rules-h">Rules</h2>
        <Section state={rules} isEmpty={(d) => d.items.length === 0} empty="No rules yet.">
          {(d) => (
            <div className="table-wrap"><table><caption className="sr-only">Tag rules</caption>
              <thead><tr><th scope="col">Tag</th><th scope="col">When</th><th scope="col">Enabled</th>{can.manageTagRules(role) && <th scope="col"><span className="sr-only">Actions</span></th>}</tr></thead>
              <tbody>{d.items.map((r) => (
                <tr key={r.id}><td><span className="tag">{r.tag}</span> {r.name && r.name !== r.tag ? r.name : ''}</td><td>{describe(r.conditions)}</td><td>{r.enabled === false ? 'no' : 'yes'}</td>
                  {can.manageTagRules(role) && <td><button type="button" className="secondary" onClick={() => void submit.run(async () => { await del(`/v1/tag-rules/${r.id}`); rules.reload(); })}>Delete</button></td>}
                </tr>
              ))}</tbody>
            </table></div>
          )}
        </Section>
      </section>
      {can.manageTagRules(role) && (
        <form className="card" aria-labelledby="new-rule-h" onSubmit={(e) => {
          e.preventDefault();
          const condition = needs === 'number' ? { [kind]: Number(value) } : needs === 'text' ? { [kind]: value } : { [kind]: true };
          void submit.run(async () => { await post('/v1/tag-rules', { name: tag, tag, conditions: condition }); setTag(''); setValue(''); rules.reload(); });
        }}>
          <h2 id="new-rule-h">New rule</h2>
          <label>Tag<input name="tag" required maxLength={64} value={tag} onChange={(e) => setTag(e.target.value)} /></label>
          <label>Condition<select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)}>{KINDS.map((k) => <option key={k.value} value={k.value}>{k.label}</option>)}</select></label>
          {needs && <label>Value<input name="value" type={needs === 'number' ? 'number' : 'text'} required value={value} onChange={(e) => setValue(e.target.value)} /></label>}
          <button type="submit" disabled={submit.busy}>Add rule</button>
        </form>
      )}
      <ErrorBox error={submit.error} />
    </>
  );
}
