import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallerKeys } from './caller-keys.js';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const never = new Promise<void>(() => undefined);

describe(CallerKeys.name, () => {
  it('keeps keys typed ahead in order, and hands a waiting menu the next one pressed', async () => {
    const keys = new CallerKeys();
    keys.pressed('1', 'rtp');
    keys.pressed('2', 'rtp');
    expect(await keys.next(1000, never)).toBe('1');
    expect(await keys.next(1000, never)).toBe('2');
    const asked = keys.next(1000, never);
    keys.pressed('9', 'info');
    expect(await asked).toBe('9');
  });

  it('gives null when no key comes in time or the call ends', async () => {
    const keys = new CallerKeys();
    const late = keys.next(500, never);
    vi.advanceTimersByTime(500);
    expect(await late).toBeNull();
    let end!: () => void;
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const cut = keys.next(10_000, ended);
    end();
    expect(await cut).toBeNull();
  });

  it('counts one press sent both as an RTP event and as INFO once, but the same key twice by one way twice', async () => {
    let now = 1_000;
    const keys = new CallerKeys(() => now);
    keys.pressed('5', 'rtp');
    now += 40;
    keys.pressed('5', 'info');
    now += 400;
    keys.pressed('5', 'info');
    now += 100;
    keys.pressed('5', 'info');
    const read: Array<string | null> = [];
    for (let i = 0; i < 4; i++) {
      const next = keys.next(100, never);
      vi.advanceTimersByTime(100);
      read.push(await next);
    }
    expect(read).toEqual(['5', '5', '5', null]);
  });

  it('cuts a prompt short when a key is pressed while it plays', async () => {
    const keys = new CallerKeys();
    let done = false;
    const prompt = keys.untilKeyOr(5_000, never).then(() => {
      done = true;
    });
    vi.advanceTimersByTime(1_000);
    await Promise.resolve();
    expect(done).toBe(false);
    keys.pressed('0', 'rtp');
    await prompt;
    expect(done).toBe(true);
    expect(keys.waiting).toBe(true);
  });
});
