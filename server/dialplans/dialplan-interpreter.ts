import type { CallControl, ForwardOutcome } from './call-control.js';
import type { Dialplan, Step } from './dialplan.schemas.js';

/** Renders {{name}} placeholders from the call's variables; unknown names render empty. No code runs. */
export function renderTemplate(template: string, vars: Readonly<Record<string, string>>): string {
  // Own properties only: "{{constructor}}" must not reach Object.prototype.
  return template.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (_, key: string) => (Object.hasOwn(vars, key) ? vars[key] ?? '' : ''));
}

const DAY_INDEX = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Is `at` inside any opening window, read on the wall clock of `timezone`? */
export function isOpen(at: Date, timezone: string, open: Array<{ days: string[]; from: string; to: string }>): boolean {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const weekday = parts.find((p) => p.type === 'weekday')?.value.toLowerCase().slice(0, 3) ?? '';
  const clock = `${parts.find((p) => p.type === 'hour')?.value}:${parts.find((p) => p.type === 'minute')?.value}`;
  if (!DAY_INDEX.includes(weekday as (typeof DAY_INDEX)[number])) return false;
  return open.some((w) => w.days.includes(weekday) && clock >= w.from && clock < w.to);
}

const rotations = new Map<string, number>();

/** Round-robin start per plan step; in memory, so each node rotates on its own. */
function rotate(targets: string[], key: string): string[] {
  const n = rotations.get(key) ?? 0;
  rotations.set(key, n + 1);
  const start = n % targets.length;
  return [...targets.slice(start), ...targets.slice(0, start)];
}

type Result = 'answered' | 'continue' | 'stopped';

async function runSteps(steps: Step[], control: CallControl, path: string): Promise<Result> {
  for (const [i, step] of steps.entries()) {
    if (control.ended) return 'stopped';
    const here = `${path}.${i}`;
    if ('announce' in step) {
      await control.playToCaller(step.announce.file);
    } else if ('forward' in step) {
      const f = step.forward;
      const targets = f.strategy === 'round-robin' ? rotate(f.targets, here) : f.targets;
      const whisper = f.whisper === undefined ? undefined : typeof f.whisper === 'string' ? { text: renderTemplate(f.whisper, control.vars) } : f.whisper;
      const outcome: ForwardOutcome = await control.forward({
        targets, strategy: f.strategy === 'round-robin' ? 'sequential' : f.strategy, ringSeconds: f.ringSeconds, rotationKey: here,
        ...(whisper && (!('text' in whisper) || whisper.text) ? { whisper } : {}),
      });
      if (outcome.outcome === 'answered') return 'answered';
      if (outcome.outcome === 'caller-gone') return 'stopped';
    } else if ('menu' in step) {
      const m = step.menu;
      let branch: Step[] | undefined;
      for (let attempt = 0; attempt <= m.retries && !control.ended; attempt++) {
        await control.playToCaller(m.prompt);
        const digit = await control.collectDigit(m.timeoutSeconds * 1000);
        if (digit === null) continue;
        control.noteDigit(digit);
        branch = m.options[digit] ?? m.default;
        break;
      }
      branch ??= m.default;
      if (branch) {
        const r = await runSteps(branch, control, `${here}.menu`);
        if (r !== 'continue') return r;
      }
    } else if ('hours' in step) {
      if (!isOpen(control.now(), step.hours.timezone, step.hours.open)) {
        const r = await runSteps(step.hours.closed, control, `${here}.closed`);
        if (r !== 'continue') return r;
      }
    } else if ('voicemail' in step) {
      await control.recordVoicemail(step.voicemail.maxSeconds, step.voicemail.greeting);
      return 'stopped';
    } else if ('hangup' in step) {
      await control.hangup(step.hangup.status);
      return 'stopped';
    }
  }
  return 'continue';
}

/**
 * Runs a plan on a call. Resolves when the call is bridged to an agent or the plan has ended the
 * call; when the steps run out with nobody answering the caller gets 480.
 */
export async function runDialplan(plan: Dialplan, control: CallControl): Promise<'answered' | 'ended'> {
  const result = await runSteps(plan.steps, control, 'steps');
  if (result === 'answered') return 'answered';
  // No status: the call maps its last forward outcome (busy → 486, no answer → 480, …).
  if (!control.ended) await control.hangup();
  return 'ended';
}
