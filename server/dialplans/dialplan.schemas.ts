import { z } from 'zod';

/** A prompt file name inside the prompts directory: no paths, so a plan cannot read other files. */
const PromptFile = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.(wav|mp3)$/, 'a file name in dialplans/prompts (e.g. welcome.wav), no directories');
const SipTarget = z.string().regex(/^sips?:[A-Za-z0-9._~%!$&'()*+,;=-]+@[A-Za-z0-9.-]+(:\d{1,5})?$/, 'not a SIP URI (sip:user@host[:port])');
const Clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');
const Day = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const TimeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'unknown IANA time zone');

export type Step =
  | { announce: { file: string } }
  | { forward: { targets: string[]; strategy: 'simultaneous' | 'sequential' | 'round-robin'; ringSeconds: number; whisper?: string | { file: string } | undefined } }
  | { menu: { prompt: string; timeoutSeconds: number; retries: number; options: Record<string, Step[]>; default?: Step[] | undefined } }
  | { hours: { timezone: string; open: Array<{ days: Array<z.infer<typeof Day>>; from: string; to: string }>; closed: Step[] } }
  | { voicemail: { maxSeconds: number; greeting?: string | undefined } }
  | { hangup: { status?: number | undefined } };

export const Step: z.ZodType<Step> = z.lazy(() =>
  z.union([
    z.strictObject({ announce: z.strictObject({ file: PromptFile }) }),
    z.strictObject({
      forward: z.strictObject({
        targets: z.array(SipTarget).min(1).max(20),
        strategy: z.enum(['simultaneous', 'sequential', 'round-robin']).default('simultaneous'),
        ringSeconds: z.number().int().min(1).max(300).default(20),
        whisper: z.union([z.string().max(200), z.strictObject({ file: PromptFile })]).optional(),
      }),
    }),
    z.strictObject({
      menu: z.strictObject({
        prompt: PromptFile,
        timeoutSeconds: z.number().int().min(1).max(60).default(5),
        retries: z.number().int().min(0).max(5).default(1),
        options: z.record(z.string().regex(/^[0-9*#]$/, 'one DTMF key'), z.array(Step)),
        default: z.array(Step).optional(),
      }),
    }),
    z.strictObject({
      hours: z.strictObject({
        timezone: TimeZone,
        open: z.array(z.strictObject({ days: z.array(Day).min(1), from: Clock, to: Clock })).min(1),
        closed: z.array(Step),
      }),
    }),
    z.strictObject({ voicemail: z.strictObject({ maxSeconds: z.number().int().min(5).max(600).default(120), greeting: PromptFile.optional() }) }),
    z.strictObject({ hangup: z.strictObject({ status: z.number().int().min(400).max(699).optional() }) }),
  ]),
);

export const Dialplan = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i),
  record: z.boolean().default(true),
  steps: z.array(Step).min(1),
});
export type Dialplan = z.infer<typeof Dialplan>;

/** "steps.1.forward.targets.0: not a SIP URI" — a path an admin can find in the file. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}
