import { z } from 'zod';
import { templateProblem } from './dialplan-template.js';

/**
 * A prompt file, relative to the prompts directory (dialplans/prompts). Absolute paths and ".."
 * are refused so a plan can never make rtpengine play (and so reveal) another file on the host.
 */
export const PromptFile = z
  .string()
  .min(1)
  .max(200)
  .superRefine((value, ctx) => {
    const problem = promptFileProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export function promptFileProblem(value: string): string | undefined {
  if (value.startsWith('/') || /^[A-Za-z]:/.test(value) || value.includes('\\'))
    return 'absolute paths are not allowed (name a file relative to dialplans/prompts)';
  const segments = value.split('/');
  if (segments.includes('..')) return '".." is not allowed (name a file inside dialplans/prompts)';
  if (segments.some((s) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(s)))
    return 'file names use letters, digits, ".", "_" and "-" (e.g. welcome.wav or ru/welcome.wav)';
  if (!/\.(wav|mp3)$/i.test(value)) return 'expected a .wav or .mp3 prompt file';
  return undefined;
}

// sip:user@host[:port] and nothing else: no wildcards, URI parameters or headers, so a plan cannot
// turn the B2BUA into an open relay or smuggle transport options in.
const SIP_USER = /^(?:[A-Za-z0-9\-_.!~'()&=+$,;]|%[0-9A-Fa-f]{2})+$/;
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(?:25[0-5]|2[0-4]\d|1?\d?\d)(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

export function isSipTarget(value: string): boolean {
  const m = /^sip:([^@:;?]+)@([^:;?]+)(?::(\d{1,5}))?$/.exec(value);
  if (!m) return false;
  const [, user, host, port] = m as unknown as [string, string, string, string | undefined];
  if (!SIP_USER.test(user)) return false;
  if (!(IPV4.test(host) || (HOST_NAME.test(host) && !/^[\d.]+$/.test(host)))) return false;
  return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
}

/** What a forward can ring besides a SIP URI; each kind is resolved to SIP URIs when the call runs. */
export const TARGET_KINDS = {
  /** An employee's registered phones. */
  extension: /^extension:[0-9]{2,8}$/,
  /** A ring group by name (its members, strategy and timeout come from /v1/groups). */
  group: /^group:[a-z0-9][a-z0-9_-]{0,63}$/i,
  /** An outside number in E.164, dialled through the account's outbound trunk. */
  tel: /^tel:\+[1-9][0-9]{6,14}$/,
  /** Whoever answered this caller's last answered call (sticky agent); nobody for a new caller. */
  'last-agent': /^last-agent$/,
} as const;
export type TargetKind = keyof typeof TARGET_KINDS | 'sip';

export function targetKind(value: string): TargetKind | undefined {
  if (isSipTarget(value)) return 'sip';
  for (const [kind, pattern] of Object.entries(TARGET_KINDS)) if (pattern.test(value)) return kind as TargetKind;
  return undefined;
}

const SipTarget = z
  .string()
  .max(256)
  .refine(
    (value) => targetKind(value) !== undefined,
    'not a target: expected sip:user@host[:port] (no wildcards, parameters or headers), extension:NNN, group:name, tel:+E164 or last-agent',
  );
const Clock = z.string().regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected HH:MM (00:00 to 24:00)');
export const Day = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Day = z.infer<typeof Day>;

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
const TimeZone = z.string().min(1).refine(isTimeZone, 'unknown IANA time zone (e.g. Europe/Moscow)');
const Template = z
  .string()
  .max(200)
  .superRefine((value, ctx) => {
    const problem = templateProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
export const DTMF_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'] as const;

export const Announce = z.strictObject({ file: PromptFile });
export const Forward = z.strictObject({
  targets: z
    .array(SipTarget)
    .min(1, 'at least one target')
    .max(20)
    .refine((t) => new Set(t).size === t.length, 'targets must not repeat'),
  strategy: z.enum(['simultaneous', 'sequential', 'round-robin']).default('simultaneous'),
  /** Per target for sequential and round-robin, overall for simultaneous. */
  ringSeconds: z.number().int().min(1).max(300).default(20),
  /** A template spoken to the agent ("{{source.name}}"), or a prompt file. */
  whisper: z.union([Template, z.strictObject({ file: PromptFile })]).optional(),
});
export const Voicemail = z.strictObject({ maxSeconds: z.number().int().min(5).max(600).default(120), greeting: PromptFile.optional() });
export const Hangup = z.strictObject({ status: z.number().int().min(400).max(699).optional() });
export const OpenWindow = z
  .strictObject({ days: z.array(Day).min(1), from: Clock, to: Clock })
  .refine((w) => w.from < w.to, { message: '"to" must be later than "from" (split a window that crosses midnight in two)', path: ['to'] });

export type Announce = z.infer<typeof Announce>;
export type Forward = z.infer<typeof Forward>;
export type Voicemail = z.infer<typeof Voicemail>;
export type Hangup = z.infer<typeof Hangup>;
export type OpenWindow = z.infer<typeof OpenWindow>;
/**
 * IVR: plays `prompt`, waits `timeoutSeconds` for a key. A key with an option runs that option; any
 * other key runs `default` at once; silence replays the prompt up to `retries` times and then runs
 * `default`. When the branch (or a missing default) falls through, the plan continues after the menu.
 */
export interface Menu {
  prompt: string;
  timeoutSeconds: number;
  retries: number;
  options: Partial<Record<string, Step[]>>;
  default?: Step[] | undefined;
}
/** Inside the windows the plan continues with the next step; outside them `closed` runs instead of the rest of the plan. */
export interface Hours {
  timezone: string;
  open: OpenWindow[];
  closed: Step[];
}

/** What a route rule compares: a value or a list (any matches); case-insensitive; "cpc*" matches by prefix. */
export type RouteValue = string | string[];
export interface RouteWhen {
  source?: RouteValue | undefined;
  medium?: RouteValue | undefined;
  campaign?: RouteValue | undefined;
  keyword?: RouteValue | undefined;
  /** new: no earlier call from this number; repeat: called before. */
  caller?: 'new' | 'repeat' | undefined;
}
/**
 * Responsive routing: the first rule whose every condition holds (on what attribution knows when the
 * INVITE arrives) runs its steps; none matching runs `otherwise`. When the branch falls through, the
 * plan continues after the route step.
 */
export interface Route {
  rules: { when: RouteWhen; steps: Step[] }[];
  otherwise?: Step[] | undefined;
}

export type Step =
  | { announce: Announce }
  | { forward: Forward }
  | { menu: Menu }
  | { hours: Hours }
  | { route: Route }
  | { voicemail: Voicemail }
  | { hangup: Hangup }
  | { queue: string };

export const STEP_KINDS = ['announce', 'forward', 'menu', 'hours', 'route', 'queue', 'voicemail', 'hangup'] as const;
/** A call queue by name (/v1/queues): callers wait there until an agent answers, or go on to the next step. */
const QueueStep = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'the name of a queue (/v1/queues)');
const stepsOf = (what: string) =>
  z
    .array(
      z.lazy(() => Step),
      { error: (iss) => (iss.input === undefined ? 'required: a list of steps' : 'expected a list of steps') },
    )
    .min(1, `${what} needs at least one step`);
const unknownKeys = (expected: readonly string[]) => ({
  error: (iss: { code?: string; keys?: string[] }) =>
    iss.code === 'unrecognized_keys' ? `unknown key ${(iss.keys ?? []).map((k) => `"${k}"`).join(', ')} (expected: ${expected.join(', ')})` : undefined,
});

const Menu: z.ZodType<Menu> = z.strictObject({
  prompt: PromptFile,
  timeoutSeconds: z.number().int().min(1).max(60).default(5),
  retries: z.number().int().min(0).max(5).default(1),
  options: z
    .record(
      z.string().refine((k) => (DTMF_KEYS as readonly string[]).includes(k)),
      stepsOf('an option'),
      {
        error: (iss) => (iss.code === 'invalid_key' ? 'menu keys are single DTMF keys: 0-9, * or #' : undefined),
      },
    )
    .refine((o) => Object.keys(o).length > 0, 'a menu needs at least one option'),
  default: stepsOf('default').optional(),
}) as z.ZodType<Menu>;

const RouteValue = z.union([z.string().min(1).max(200), z.array(z.string().min(1).max(200)).min(1).max(50)], {
  error: 'expected a value or a list of values',
});
const RouteWhen = z
  .strictObject(
    {
      source: RouteValue.optional(),
      medium: RouteValue.optional(),
      campaign: RouteValue.optional(),
      keyword: RouteValue.optional(),
      caller: z.enum(['new', 'repeat']).optional(),
    },
    unknownKeys(['source', 'medium', 'campaign', 'keyword', 'caller']),
  )
  .refine((w) => Object.values(w).some((v) => v !== undefined), 'a rule needs at least one condition (source, medium, campaign, keyword or caller)');
const Route: z.ZodType<Route> = z.strictObject(
  {
    rules: z
      .array(z.strictObject({ when: RouteWhen, steps: stepsOf('a rule') }, unknownKeys(['when', 'steps'])))
      .min(1, 'at least one rule')
      .max(50),
    otherwise: stepsOf('otherwise').optional(),
  },
  unknownKeys(['rules', 'otherwise']),
) as z.ZodType<Route>;

const Hours: z.ZodType<Hours> = z.strictObject({
  timezone: TimeZone,
  open: z.array(OpenWindow).min(1, 'at least one opening window'),
  closed: stepsOf('closed'),
});

/**
 * One step is a map with exactly one action key. Every action is an optional property of one
 * strict object (rather than a union) so that errors point inside the action that is wrong
 * ("steps[1].forward.targets[0]") instead of "no union member matched".
 */
export const Step: z.ZodType<Step> = z
  .strictObject(
    {
      announce: Announce.optional(),
      forward: Forward.optional(),
      menu: z.lazy(() => Menu).optional(),
      hours: z.lazy(() => Hours).optional(),
      route: z.lazy(() => Route).optional(),
      queue: QueueStep.optional(),
      voicemail: Voicemail.optional(),
      hangup: Hangup.optional(),
    },
    {
      error: (iss) =>
        iss.code === 'unrecognized_keys' ? `unknown step ${iss.keys.map((k) => `"${k}"`).join(', ')} (expected one of: ${STEP_KINDS.join(', ')})` : undefined,
    },
  )
  .superRefine((step, ctx) => {
    // An unknown action was already reported; "needs one action" on top would only confuse.
    if (ctx.issues.some((i) => i.code === 'unrecognized_keys' && !i.path?.length)) return;
    const kinds = STEP_KINDS.filter((k) => step[k] !== undefined);
    if (kinds.length === 0) ctx.addIssue({ code: 'custom', message: `a step needs one action: ${STEP_KINDS.join(', ')}` });
    if (kinds.length > 1)
      ctx.addIssue({ code: 'custom', message: `a step has exactly one action, found ${kinds.join(' and ')} (make them separate list items)` });
  })
  .meta({
    id: 'DialplanStep',
    description: 'One action: exactly one of announce, forward, menu, hours, route, queue, voicemail, hangup',
  }) as unknown as z.ZodType<Step>;

const PLAN_KEYS = ['name', 'description', 'record', 'steps'] as const;
export const Dialplan = z.strictObject(
  {
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'letters, digits, "-" and "_" (the file name without .yaml)'),
    description: z.string().max(500).optional(),
    /** Record the call (both directions); on by default. */
    record: z.boolean().default(true),
    steps: stepsOf('a dialplan'),
  },
  unknownKeys(PLAN_KEYS),
);
export type Dialplan = z.infer<typeof Dialplan>;

/** Turns a zod path into the form an admin finds in the YAML: steps[1].forward.targets[0]. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out || '(top level)';
}

/** "steps[1].forward.targets[0]: not a target …; steps[2]: unknown step "foo" …" */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
}

/** Parses an object read from YAML; never throws. */
export function parseDialplan(input: unknown): { ok: true; plan: Dialplan } | { ok: false; error: string } {
  const r = Dialplan.safeParse(input);
  return r.success ? { ok: true, plan: r.data } : { ok: false, error: describeIssues(r.error) };
}
