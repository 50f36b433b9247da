import type { Logger } from '../logger.js';
import { isOpen } from './business-hours.js';
import type { CallControl, ForwardOutcome, ForwardRequest, RouteFacts } from './call-control.js';
import { renderTemplate } from './dialplan-template.js';
import type { Dialplan, Forward, Menu, RouteValue, RouteWhen, Step } from './dialplan.schemas.js';

const LAST_AGENT = 'last-agent';

export { isOpen } from './business-hours.js';
export { renderTemplate } from './dialplan-template.js';

/** Where round-robin forwards start; `next` returns the index of the first target for this call. */
export interface Rotation {
  next(key: string, size: number): number;
}

/**
 * Counters in this process's memory: each node rotates on its own and restarts from the first
 * target after a restart. Good enough to spread calls; not a fair share across a cluster.
 */
export function createMemoryRotation(): Rotation {
  const counters = new Map<string, number>();
  return {
    next(key, size) {
      const n = counters.get(key) ?? 0;
      counters.set(key, (n + 1) % 1_000_000);
      return n % size;
    },
  };
}

const sharedRotation = createMemoryRotation();

export interface RunOptions {
  /** Defaults to one in-memory rotation shared by every call of this process. */
  rotation?: Rotation;
  logger?: Pick<Logger, 'warn' | 'info'>;
}

export type DialplanResult = 'answered' | 'ended';
type StepsResult = 'answered' | 'stopped' | 'continue';

interface Run {
  plan: Dialplan;
  control: CallControl;
  rotation: Rotation;
  logger: Pick<Logger, 'warn' | 'info'> | undefined;
  /** The last unanswered forward decides the caller's final status when the plan runs out. */
  lastForward: ForwardOutcome['outcome'] | undefined;
}

/**
 * Runs a plan on a call, step by step, and stops as soon as the call has ended.
 * Resolves 'answered' once an agent is bridged, 'ended' when the plan (or a hang-up) ended the call.
 * When the steps run out with nobody answering, the caller gets 486 if the last forward was busy
 * and 480 otherwise.
 *
 * Failures of the media side are not fatal: a prompt that cannot be played is skipped, a digit that
 * cannot be read counts as silence, a forward that throws counts as failed. Errors from
 * recordVoicemail/hangup propagate (the caller of runDialplan ends the call).
 *
 * @example
 *   const result = await runDialplan(registry.get('sales')!, session, { logger: session.log });
 */
export async function runDialplan(plan: Dialplan, control: CallControl, opts: RunOptions = {}): Promise<DialplanResult> {
  const run: Run = { plan, control, rotation: opts.rotation ?? sharedRotation, logger: opts.logger, lastForward: undefined };
  const result = await runSteps(run, plan.steps, 'steps');
  if (result === 'answered') return 'answered';
  if (!control.ended) await control.hangup(finalStatus(run));
  return 'ended';
}

function finalStatus(run: Run): number {
  return run.lastForward === 'busy' ? 486 : 480;
}

async function runSteps(run: Run, steps: readonly Step[], path: string): Promise<StepsResult> {
  for (const [i, step] of steps.entries()) {
    if (run.control.ended) return 'stopped';
    const result = await runStep(run, step, `${path}[${i}]`);
    if (result !== 'continue') return result;
  }
  return run.control.ended ? 'stopped' : 'continue';
}

async function runStep(run: Run, step: Step, here: string): Promise<StepsResult> {
  const { control } = run;
  if ('announce' in step) {
    await play(run, step.announce.file, here);
    return 'continue';
  }
  if ('forward' in step) return forward(run, step.forward, here);
  if ('menu' in step) return menu(run, step.menu, here);
  if ('hours' in step) {
    if (isOpen(control.now(), step.hours.timezone, step.hours.open)) return 'continue';
    // Closed: the closed branch replaces the rest of the plan (the rest is the open-hours flow).
    const r = await runSteps(run, step.hours.closed, `${here}.hours.closed`);
    if (r !== 'continue') return r;
    if (!control.ended) await control.hangup(finalStatus(run));
    return 'stopped';
  }
  if ('route' in step) {
    const facts = control.routeFacts();
    const index = step.route.rules.findIndex((rule) => routeMatches(rule.when, facts));
    const branch = index >= 0 ? step.route.rules[index]!.steps : step.route.otherwise;
    run.logger?.info({ step: here, type: 'dialplan_route', rule: index >= 0 ? index : 'otherwise', facts }, 'route chosen');
    return branch ? runSteps(run, branch, index >= 0 ? `${here}.route.rules[${index}].steps` : `${here}.route.otherwise`) : 'continue';
  }
  if ('queue' in step) {
    const result = await control.queue(step.queue);
    run.logger?.info({ step: here, type: 'dialplan_queue', queue: step.queue, result }, 'queue step done');
    return result === 'answered' ? 'answered' : 'continue';
  }
  if ('voicemail' in step) {
    await control.recordVoicemail(step.voicemail.maxSeconds, step.voicemail.greeting);
    return 'stopped';
  }
  if ('hangup' in step) {
    await control.hangup(step.hangup.status ?? finalStatus(run));
    return 'stopped';
  }
  return 'continue';
}

async function play(run: Run, file: string, here: string): Promise<void> {
  try {
    await run.control.playToCaller(file);
  } catch (err) {
    run.logger?.warn({ err, file, step: here, type: 'dialplan_prompt_failed' }, 'prompt failed; continuing');
  }
}

/** Every condition of the rule holds: values compare case-insensitively, "x*" by prefix, a list by any. */
export function routeMatches(when: RouteWhen, facts: RouteFacts): boolean {
  const holds = (expected: RouteValue | undefined, actual: string | null) => {
    if (expected === undefined) return true;
    if (actual === null) return false;
    const value = actual.toLowerCase();
    return (Array.isArray(expected) ? expected : [expected]).some((e) => {
      const want = e.toLowerCase();
      return want.endsWith('*') ? value.startsWith(want.slice(0, -1)) : value === want;
    });
  };
  if (when.caller === 'new' && facts.firstTime !== true) return false;
  if (when.caller === 'repeat' && facts.firstTime !== false) return false;
  return holds(when.source, facts.source) && holds(when.medium, facts.medium) && holds(when.campaign, facts.campaign) && holds(when.keyword, facts.keyword);
}

async function forward(run: Run, f: Forward, here: string): Promise<StepsResult> {
  const { control } = run;
  const rotationKey = `${run.plan.name}:${here}`;
  let targets = f.targets;
  if (targets.includes(LAST_AGENT)) {
    const last = await control.lastAgent().catch(() => undefined);
    targets = [...new Set(targets.flatMap((t) => (t === LAST_AGENT ? (last ? [last] : []) : [t])))];
    if (targets.length === 0) {
      run.logger?.info({ step: here, type: 'dialplan_no_last_agent' }, 'the caller has no last agent; next step');
      return 'continue';
    }
  }
  if (f.strategy === 'round-robin' && targets.length > 1) {
    const start = run.rotation.next(rotationKey, targets.length);
    targets = [...targets.slice(start), ...targets.slice(0, start)];
  }
  let whisper: ForwardRequest['whisper'];
  if (typeof f.whisper === 'string') {
    const text = renderTemplate(f.whisper, control.vars).trim();
    if (text) whisper = { text };
  } else if (f.whisper) {
    whisper = { file: f.whisper.file };
  }
  // Round-robin targets arrive already rotated: the control rings them one by one in this order.
  const request: ForwardRequest = { targets, strategy: f.strategy, ringSeconds: f.ringSeconds, rotationKey, ...(whisper ? { whisper } : {}) };
  let outcome: ForwardOutcome;
  try {
    outcome = await control.forward(request);
  } catch (err) {
    run.logger?.warn({ err, step: here, type: 'dialplan_forward_failed' }, 'forward failed; falling through');
    outcome = { outcome: 'failed' };
  }
  if (outcome.outcome === 'answered') return 'answered';
  if (outcome.outcome === 'caller-gone' || control.ended) return 'stopped';
  run.lastForward = outcome.outcome;
  return 'continue';
}

async function menu(run: Run, m: Menu, here: string): Promise<StepsResult> {
  const { control } = run;
  let branch: { steps: readonly Step[] | undefined; path: string } | undefined;
  for (let attempt = 0; attempt <= m.retries; attempt++) {
    await play(run, m.prompt, here);
    if (control.ended) return 'stopped';
    let digit: string | null;
    try {
      digit = await control.collectDigit(m.timeoutSeconds * 1000);
    } catch (err) {
      run.logger?.warn({ err, step: here, type: 'dialplan_digit_failed' }, 'digit collection failed; treated as silence');
      digit = null;
    }
    if (control.ended) return 'stopped';
    if (digit === null) continue;
    control.noteDigit(digit);
    branch = Object.hasOwn(m.options, digit)
      ? { steps: m.options[digit], path: `${here}.menu.options[${JSON.stringify(digit)}]` }
      : { steps: m.default, path: `${here}.menu.default` };
    break;
  }
  branch ??= { steps: m.default, path: `${here}.menu.default` };
  if (!branch.steps) return 'continue';
  return runSteps(run, branch.steps, branch.path);
}
