import { useState } from 'react';
import { can, del, get, patch, post } from '../api.tsx';
import { useRole } from '../app.tsx';
import { ErrorBox, PageHeader, Section, fmtDateTime, useAsync, useSubmit } from '../ui.tsx';

/** Mirrors server/calls/tag-rules.schemas.ts (TagRule, TagRuleConditions). */
interface Conditions {
  talkSecondsOver?: number;
  missed?: boolean;
  firstTime?: boolean;
  sourceId?: string;
  source?: string;
  campaign?: string;
  ivrDigit?: string;
  disposition?: string;
}
interface TagRule {
  id: string;
  name: string;
  tag: string;
  conditions: Conditions;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

const DISPOSITIONS = ['answered', 'busy', 'no-answer', 'failed', 'cancelled', 'voicemail'] as const;
/** The choices of the form; each sets one key of `conditions` (booleans come as two choices). */
const KINDS = [
  { value: 'talkSecondsOver', label: 'Talk time over N seconds', input: 'number' },
  { value: 'missed', label: 'Missed call', input: '' },
  { value: 'answered', label: 'Answered call', input: '' },
  { value: 'firstTime', label: 'First-time caller', input: '' },
  { value: 'repeat', label: 'Repeat caller', input: '' },
  { value: 'source', label: 'Source is (name or id)', input: 'text' },
  { value: 'campaign', label: 'Campaign is', input: 'text' },
  { value: 'ivrDigit', label: 'IVR digits pressed', input: 'digits' },
  { value: 'disposition', label: 'Call ended as', input: 'disposition' },
] as const;
type Kind = (typeof KINDS)[number]['value'];
interface Draft {
  kind: Kind;
  value: string;
}

function toConditions(drafts: Draft[]): Conditions {
  const c: Conditions = {};
  for (const d of drafts) {
    if (d.kind === 'talkSecondsOver') c.talkSecondsOver = Number(d.value);
    else if (d.kind === 'missed' || d.kind === 'answered') c.missed = d.kind === 'missed';
    else if (d.kind === 'firstTime' || d.kind === 'repeat') c.firstTime = d.kind === 'firstTime';
    else c[d.kind] = d.value.trim();
  }
  return c;
}

export function describeConditions(c: Conditions): string {
  const parts: string[] = [];
  if (c.talkSecondsOver !== undefined) parts.push(`talk time over ${c.talkSecondsOver} s`);
  if (c.missed !== undefined) parts.push(c.missed ? 'missed' : 'answered');
  if (c.firstTime !== undefined) parts.push(c.firstTime ? 'first-time caller' : 'repeat caller');
  if (c.sourceId) parts.push(`source id ${c.sourceId}`);
  if (c.source) parts.push(`source is “${c.source}”`);
  if (c.campaign) parts.push(`campaign is “${c.campaign}”`);
  if (c.ivrDigit) parts.push(`pressed ${c.ivrDigit} in the IVR`);
  if (c.disposition) parts.push(`ended as ${c.disposition}`);
  return parts.length ? parts.join(' and ') : '—';
}

function ConditionRow({ draft, index, onChange, onRemove }: { draft: Draft; index: number; onChange: (d: Draft) => void; onRemove?: () => void }) {
  const input = KINDS.find((k) => k.value === draft.kind)!.input;
  return (
    <fieldset className="condition">
      <legend>Condition {index + 1}</legend>
      <label>
        When
        <select value={draft.kind} onChange={(e) => onChange({ kind: e.target.value as Kind, value: e.target.value === 'disposition' ? 'answered' : '' })}>
          {KINDS.map((k) => (
            <option key={k.value} value={k.value}>
              {k.label}
            </option>
          ))}
        </select>
      </label>
      {input === 'number' && (
        <label>
          Seconds
          <input type="number" min={0} max={86400} step={1} required value={draft.value} onChange={(e) => onChange({ ...draft, value: e.target.value })} />
        </label>
      )}
      {input === 'text' && (
        <label>
          Value
          <input required maxLength={200} value={draft.value} onChange={(e) => onChange({ ...draft, value: e.target.value })} />
        </label>
      )}
      {input === 'digits' && (
        <label>
          Digits
          <input
            required
            pattern="[0-9*#]{1,16}"
            title="digits 0-9, * and #"
            value={draft.value}
            onChange={(e) => onChange({ ...draft, value: e.target.value })}
          />
        </label>
      )}
      {input === 'disposition' && (
        <label>
          Outcome
          <select value={draft.value} onChange={(e) => onChange({ ...draft, value: e.target.value })}>
            {DISPOSITIONS.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
      )}
      {onRemove && (
        <button type="button" className="secondary" onClick={onRemove}>
          Remove condition {index + 1}
        </button>
      )}
    </fieldset>
  );
}

export function TagRulesPage() {
  const role = useRole();
  const editor = can.manageTagRules(role);
  const rules = useAsync(() => get<{ items: TagRule[] }>('/v1/tag-rules'), []);
  const [tag, setTag] = useState('');
  const [name, setName] = useState('');
  const [drafts, setDrafts] = useState<Draft[]>([{ kind: 'talkSecondsOver', value: '' }]);
  const [formError, setFormError] = useState<string | undefined>();
  const submit = useSubmit();
  return (
    <>
      <PageHeader title="Tag rules" />
      <p className="muted">Rules tag every new call automatically when all their conditions hold. Make two rules with the same tag for “or”.</p>
      {!editor && <p className="muted">Only administrators and marketers can change rules.</p>}
      <section className="card" aria-labelledby="rules-h">
        <h2 id="rules-h">Rules</h2>
        <Section state={rules} isEmpty={(d) => d.items.length === 0} empty="No rules yet.">
          {(d) => (
            <div className="table-wrap">
              <table className="tag-rules">
                <caption className="sr-only">Tag rules</caption>
                <thead>
                  <tr>
                    <th scope="col">Tag</th>
                    <th scope="col">Name</th>
                    <th scope="col">When</th>
                    <th scope="col">Enabled</th>
                    <th scope="col">Changed</th>
                    {editor && (
                      <th scope="col">
                        <span className="sr-only">Actions</span>
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((r) => (
                    <tr key={r.id} data-rule-id={r.id} className={r.enabled ? undefined : 'disabled'}>
                      <td>
                        <span className="tag">{r.tag}</span>
                      </td>
                      <td>{r.name}</td>
                      <td>{describeConditions(r.conditions)}</td>
                      <td>{r.enabled ? 'yes' : 'no'}</td>
                      <td>{fmtDateTime(r.updatedAt)}</td>
                      {editor && (
                        <td className="actions">
                          <button
                            type="button"
                            className="secondary"
                            disabled={submit.busy}
                            onClick={() =>
                              void submit.run(async () => {
                                await patch(`/v1/tag-rules/${r.id}`, { enabled: !r.enabled });
                                rules.reload();
                              })
                            }
                          >
                            {r.enabled ? `Disable ${r.name}` : `Enable ${r.name}`}
                          </button>
                          <button
                            type="button"
                            className="secondary"
                            disabled={submit.busy}
                            onClick={() =>
                              void submit.run(async () => {
                                await del(`/v1/tag-rules/${r.id}`);
                                rules.reload();
                              })
                            }
                          >
                            Delete {r.name}
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
      </section>
      {editor && (
        <form
          className="card"
          aria-labelledby="new-rule-h"
          onSubmit={(e) => {
            e.preventDefault();
            const kinds = drafts.map((d) => KINDS.find((k) => k.value === d.kind)!.label);
            const keys = drafts.map((d) => (d.kind === 'answered' ? 'missed' : d.kind === 'repeat' ? 'firstTime' : d.kind));
            if (new Set(keys).size !== keys.length) {
              setFormError(`Each kind of condition may appear once (${kinds.join(', ')}).`);
              return;
            }
            setFormError(undefined);
            void submit.run(async () => {
              await post('/v1/tag-rules', { tag: tag.trim(), ...(name.trim() ? { name: name.trim() } : {}), conditions: toConditions(drafts) });
              setTag('');
              setName('');
              setDrafts([{ kind: 'talkSecondsOver', value: '' }]);
              rules.reload();
            });
          }}
        >
          <h2 id="new-rule-h">New rule</h2>
          <label>
            Tag
            <input name="tag" required maxLength={64} value={tag} onChange={(e) => setTag(e.target.value)} />
          </label>
          <label>
            Rule name (optional)
            <input name="name" maxLength={200} value={name} placeholder={tag || 'defaults to the tag'} onChange={(e) => setName(e.target.value)} />
          </label>
          {drafts.map((d, i) => (
            <ConditionRow
              key={i}
              draft={d}
              index={i}
              onChange={(next) => setDrafts(drafts.map((x, j) => (j === i ? next : x)))}
              {...(drafts.length > 1 ? { onRemove: () => setDrafts(drafts.filter((_, j) => j !== i)) } : {})}
            />
          ))}
          <div className="form-actions">
            <button type="button" className="secondary" onClick={() => setDrafts([...drafts, { kind: 'missed', value: '' }])}>
              Add condition
            </button>
            <button type="submit" disabled={submit.busy}>
              Add rule
            </button>
          </div>
          {formError && (
            <p className="error" role="alert">
              {formError}
            </p>
          )}
        </form>
      )}
      <ErrorBox error={submit.error} />
    </>
  );
}
