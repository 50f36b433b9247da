import { type AppError, ERRORS } from '../errors.js';
import { optionTags, type SipRequest } from './sip-types.js';

/** The smallest session interval we accept (RFC 4028 4: never below 90 s). */
export const MIN_SESSION_EXPIRES = 90;

/** A session timer agreed for a carrier's call: who refreshes, and how often the session must be refreshed. */
export interface SessionTimer {
  seconds: number;
  refresher: 'uac' | 'uas';
}

/**
 * The session timer (RFC 4028) an INVITE asks for, as its UAS: none without Session-Expires (compact
 * form `x`), 422 below our minimum, else its interval with the refresher it named. Without one named,
 * the caller refreshes when it supports timers; a caller that does not (a proxy asked for the timer)
 * leaves the refreshing to us.
 */
export function sessionTimerOf(invite: SipRequest): SessionTimer | AppError | undefined {
  const raw = invite.headers['session-expires'] ?? invite.headers.x;
  if (raw === undefined) return undefined;
  const m = /^\s*(\d{1,10})\s*(?:;(.*))?$/.exec(String(Array.isArray(raw) ? raw[0] : raw));
  if (!m) return ERRORS.malformedRequest('Session-Expires is not a number of seconds');
  const seconds = Number(m[1]);
  if (seconds < MIN_SESSION_EXPIRES) return ERRORS.sessionIntervalTooSmall(MIN_SESSION_EXPIRES);
  const named = /(?:^|;)\s*refresher\s*=\s*(uac|uas)\s*(?:;|$)/i.exec(m[2] ?? '')?.[1]?.toLowerCase();
  const callerSupports = [...optionTags(invite.headers.supported), ...optionTags(invite.headers.require)].includes('timer');
  const refresher = named === 'uac' || named === 'uas' ? named : callerSupports ? 'uac' : 'uas';
  return { seconds, refresher };
}

/** What our 2xx says of the timer: its interval and refresher, and that the caller must honour it. */
export function sessionTimerHeaders(timer: SessionTimer): Record<string, string> {
  return { 'session-expires': `${timer.seconds};refresher=${timer.refresher}`, require: 'timer', supported: 'timer' };
}
