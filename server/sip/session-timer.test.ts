import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { MIN_SESSION_EXPIRES, sessionTimerHeaders, sessionTimerOf } from './session-timer.js';
import type { SipRequest } from './sip-types.js';

const invite = (headers: Record<string, unknown>) => ({ method: 'INVITE', uri: 'sip:1@h', headers }) as unknown as SipRequest;

describe('session timer (RFC 4028) as the carrier call’s UAS', () => {
  it('is absent without Session-Expires', () => {
    expect(sessionTimerOf(invite({ supported: 'timer' }))).toBeUndefined();
  });

  it('keeps the refresher the caller named, in either spelling of the header', () => {
    expect(sessionTimerOf(invite({ 'session-expires': '1800;refresher=uas', supported: 'timer' }))).toEqual({ seconds: 1800, refresher: 'uas' });
    expect(sessionTimerOf(invite({ x: '600; refresher=UAC', supported: 'timer' }))).toEqual({ seconds: 600, refresher: 'uac' });
  });

  it('lets a caller that supports timers refresh, and refreshes itself for one that does not', () => {
    expect(sessionTimerOf(invite({ 'session-expires': '1800', supported: '100rel, timer' }))).toEqual({ seconds: 1800, refresher: 'uac' });
    expect(sessionTimerOf(invite({ 'session-expires': '1800', require: 'timer' }))).toEqual({ seconds: 1800, refresher: 'uac' });
    expect(sessionTimerOf(invite({ 'session-expires': '1800' }))).toEqual({ seconds: 1800, refresher: 'uas' });
  });

  it('refuses an interval below the minimum with 422 and Min-SE, and junk with 400', () => {
    const brief = sessionTimerOf(invite({ 'session-expires': '89;refresher=uac' }));
    expect(brief).toBeInstanceOf(AppError);
    expect(brief).toMatchObject({ sipStatus: 422, sipHeaders: { 'min-se': MIN_SESSION_EXPIRES } });
    expect(sessionTimerOf(invite({ 'session-expires': 'soon' }))).toMatchObject({ sipStatus: 400 });
  });

  it('says the interval and the refresher in the 2xx, and requires the timer', () => {
    expect(sessionTimerHeaders({ seconds: 90, refresher: 'uac' })).toEqual({ 'session-expires': '90;refresher=uac', require: 'timer', supported: 'timer' });
  });
});
