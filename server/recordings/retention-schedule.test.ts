import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.js';
import { type RecordingService, scheduleRetentionSweep } from './recordings.service.js';

afterEach(() => vi.useRealTimers());

describe('scheduleRetentionSweep', () => {
  const logger = createLogger('silent');
  const fakeService = (sweep: RecordingService['sweep']): RecordingService => ({ process: async () => 'missing', retryDue: async () => [], sweep });

  it('sweeps a minute after start, then every interval, with the configured days, until stopped', async () => {
    vi.useFakeTimers();
    const calls: number[] = [];
    const stop = scheduleRetentionSweep(
      fakeService(async (days) => {
        calls.push(days);
        return 0;
      }),
      30,
      logger,
      3_600_000,
    );
    await vi.advanceTimersByTimeAsync(59_000);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual([30]);
    await vi.advanceTimersByTimeAsync(2 * 3_600_000);
    expect(calls).toEqual([30, 30, 30]);
    stop();
    await vi.advanceTimersByTimeAsync(5 * 3_600_000);
    expect(calls).toHaveLength(3);
  });

  it('schedules nothing when retention is 0 (keep forever) and survives a failing sweep', async () => {
    vi.useFakeTimers();
    let runs = 0;
    scheduleRetentionSweep(
      fakeService(async () => {
        runs++;
        return 0;
      }),
      0,
      logger,
    )();
    await vi.advanceTimersByTimeAsync(48 * 3_600_000);
    expect(runs).toBe(0);
    const stop = scheduleRetentionSweep(
      fakeService(async () => {
        runs++;
        throw new Error('db down');
      }),
      7,
      logger,
      1_000_000,
    );
    await vi.advanceTimersByTimeAsync(60_000 + 1_000_000);
    expect(runs).toBe(2);
    stop();
  });
});

describe('createLimiter', () => {
  it('runs at most N tasks at once, the rest in arrival order, and frees slots on failure', async () => {
    const { createLimiter } = await import('./recordings.service.js');
    const limit = createLimiter(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const task = (i: number) =>
      limit(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (i === 1) throw new Error('conversion failed');
        return i;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4, 5].map(task));
    expect(peak).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
  });
});
