import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { z } from 'zod';

export const Uuid = z.uuid();
export type Uuid = z.infer<typeof Uuid>;

export const Role = z.enum(['admin', 'manager', 'marketer', 'viewer']);
export type Role = z.infer<typeof Role>;

/** A period's bound as people and APIs write it: a date-time with Z or an offset, or a calendar day. */
export const DayOrInstant = z.union([z.iso.datetime({ offset: true }), z.iso.date()], {
  error: 'expected an ISO-8601 date (2026-11-01) or date-time with Z or an offset (2026-11-01T00:00:00Z)',
});

/** Returns the E.164 form of a phone number, or undefined when it is not a valid number. */
export function toE164(input: string, defaultCountry?: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > 32 || !/^[+\d\s().-]+$/.test(trimmed)) return undefined;
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry as never);
  return parsed?.isValid() ? parsed.number : undefined;
}

/** A phone number as an API accepts it: any common formatting in, E.164 out. */
export const E164 = z
  .string()
  .max(32)
  .transform((value, ctx) => {
    // An unencoded "+" in a query string (?number=+7495…) arrives as a space.
    const e164 = toE164(/^ \d/.test(value) ? `+${value.slice(1)}` : value);
    if (!e164) {
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a valid phone number (expected E.164, e.g. +74951234567)` });
      return z.NEVER;
    }
    return e164;
  })
  .meta({ description: 'Phone number; returned in E.164', example: '+74951234567' });

/** Dialplan names are file names in dialplans/ without the extension. */
export const DialplanName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/i, 'letters, digits, "-" and "_" (the YAML file name without .yaml)');

export const ErrorBody = z.object({ error: z.string(), message: z.string() });

export const IdParams = z.object({ id: Uuid });
