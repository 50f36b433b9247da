import { describe, expect, it } from 'vitest';
import type { Db } from '../db/pool.js';
import { createLogger } from '../logger.js';
import { blockMatches, createSpamScreen } from './spam-screen.js';

const ACCOUNT = 'a1';
/** A Db that answers the two list queries of the screen with fixed rows. */
function fakeDb(blocks: Array<{ pattern: string; action: string }>, policies: Array<Record<string, unknown>> = []): Db {
  return {
    query: async (sql: string) => ({
      rows: sql.includes('caller_blocks')
        ? blocks.map((b, i) => ({ id: `b${i}`, account_id: ACCOUNT, note: null, created_at: new Date(), ...b }))
        : policies.map((p) => ({ account_id: ACCOUNT, ...p })),
    }),
  } as unknown as Db;
}

describe(blockMatches.name, () => {
  it('matches a number, a prefix and anonymous callers', () => {
    expect(blockMatches('+79161234567', '+79161234567')).toBe(true);
    expect(blockMatches('+79161234567', '+79161234568')).toBe(false);
    expect(blockMatches('+7800*', '+78001234567')).toBe(true);
    expect(blockMatches('+7800*', '+74951234567')).toBe(false);
    expect(blockMatches('anonymous', 'anonymous')).toBe(true);
    expect(blockMatches('anonymous', '+74951234567')).toBe(false);
  });
});

describe(createSpamScreen.name, () => {
  const logger = createLogger('silent');

  it('blocks listed callers with their action, and flags anonymous callers', async () => {
    const screen = createSpamScreen({
      db: fakeDb([{ pattern: '+7800*', action: 'goodbye' }], [{ gate: true, burst_calls: 5, short_call_streak: 3, flag_anonymous: true }]),
      logger,
    });
    await screen.refresh();
    expect(screen.screen({ accountId: ACCOUNT, caller: '+78005553535' })).toEqual({ verdict: 'blocked', action: 'goodbye', pattern: '+7800*' });
    expect(screen.screen({ accountId: ACCOUNT, caller: 'anonymous' })).toMatchObject({
      verdict: 'flagged',
      gate: true,
      reasons: ['anonymous or invalid caller id'],
    });
    expect(screen.screen({ accountId: ACCOUNT, caller: '+79161234567' })).toEqual({ verdict: 'ok' });
    screen.close();
  });

  it('flags a burst of calls in 10 minutes and a streak of very short answered calls', async () => {
    const screen = createSpamScreen({ db: fakeDb([], [{ gate: false, burst_calls: 3, short_call_streak: 2, flag_anonymous: true }]), logger });
    await screen.refresh();
    const t0 = 1_000_000;
    expect(screen.screen({ accountId: ACCOUNT, caller: '+79160000001' }, t0).verdict).toBe('ok');
    expect(screen.screen({ accountId: ACCOUNT, caller: '+79160000001' }, t0 + 60_000).verdict).toBe('ok');
    expect(screen.screen({ accountId: ACCOUNT, caller: '+79160000001' }, t0 + 120_000)).toMatchObject({
      verdict: 'flagged',
      gate: false,
      reasons: ['3 calls in 10 minutes'],
    });
    // 11 minutes after the first call, only two are recent again.
    expect(screen.screen({ accountId: ACCOUNT, caller: '+79160000001' }, t0 + 11 * 60_000).verdict).toBe('ok');

    const caller = { accountId: ACCOUNT, caller: '+79160000002' };
    screen.noteEnded({ ...caller, talkSeconds: 1, answered: true });
    screen.noteEnded({ ...caller, talkSeconds: 0, answered: false }); // unanswered: neither counts nor breaks the streak
    screen.noteEnded({ ...caller, talkSeconds: 2, answered: true });
    expect(screen.screen(caller, t0)).toMatchObject({ verdict: 'flagged', reasons: ['2 calls in a row under 5 s'] });
    screen.noteEnded({ ...caller, talkSeconds: 40, answered: true }); // a real conversation ends the streak
    expect(screen.screen(caller, t0 + 1).verdict).toBe('ok');
    screen.close();
  });

  it('by default flags nobody: not bursts, not short-call streaks, not anonymous callers', async () => {
    const screen = createSpamScreen({ db: fakeDb([]), logger });
    await screen.refresh();
    expect(screen.screen({ accountId: ACCOUNT, caller: 'anonymous' }).verdict).toBe('ok');
    const caller = { accountId: ACCOUNT, caller: '+79160000009' };
    for (let i = 0; i < 5; i++) screen.noteEnded({ ...caller, talkSeconds: 1, answered: true });
    const results = Array.from({ length: 20 }, (_, i) => screen.screen(caller, 1_000 + i));
    expect(results.every((r) => r.verdict === 'ok')).toBe(true);
    screen.close();
  });

  it('keeps serving the last lists when Postgres fails', async () => {
    let failing = false;
    const db = {
      query: async (sql: string) => {
        if (failing) throw new Error('down');
        return {
          rows: sql.includes('caller_blocks')
            ? [{ id: 'b', account_id: ACCOUNT, pattern: '+79990000000', action: 'reject', note: null, created_at: new Date() }]
            : [],
        };
      },
    } as unknown as Db;
    const screen = createSpamScreen({ db, logger });
    expect(await screen.refresh()).toBe(true);
    failing = true;
    expect(await screen.refresh()).toBe(false);
    expect(screen.screen({ accountId: ACCOUNT, caller: '+79990000000' }).verdict).toBe('blocked');
    screen.close();
  });
});
