import type { Day, OpenWindow } from './dialplan.schemas.js';

const DAYS: readonly Day[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Weekday and HH:MM of `at` on the wall clock of `timezone` (DST included, via Intl's tz data). */
export function wallClock(at: Date, timezone: string): { day: Day; clock: string } {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timezone, f);
  }
  const parts = f.formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = DAYS.find((d) => d === part('weekday').toLowerCase().slice(0, 3));
  if (!day) throw new Error(`cannot read the weekday in ${timezone}`);
  return { day, clock: `${part('hour')}:${part('minute')}` };
}

/** Is `at` inside any opening window, read on the wall clock of `timezone`? `from` inclusive, `to` exclusive. */
export function isOpen(at: Date, timezone: string, open: ReadonlyArray<Pick<OpenWindow, 'days' | 'from' | 'to'>>): boolean {
  const { day, clock } = wallClock(at, timezone);
  return open.some((w) => w.days.includes(day) && clock >= w.from && clock < w.to);
}
