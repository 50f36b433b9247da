import { describe, expect, it } from 'vitest';
import { createLiveBoard } from './live-board.js';

const call = (callId: string) => ({
  callId,
  direction: 'inbound' as const,
  caller: '+79161234567',
  trackingNumber: '+74951234567',
  startedAt: new Date().toISOString(),
  state: 'ringing' as const,
  queue: null,
  agent: null,
});

describe('live board', () => {
  it('keeps busy targets per account, adds targets a call gains later, and frees them once', () => {
    const board = createLiveBoard({ dayStats: async () => ({ answered: 0, abandoned: 0, serviceLevel: null }) });
    const owner = {};
    // Answered early for a prompt (no agent yet), later by extension 101.
    board.markBusy('a', owner, []);
    board.markBusy('a', owner, ['extension:101']);
    expect(board.isBusy('a', 'extension:101')).toBe(true);
    expect(board.isBusy('b', 'extension:101')).toBe(false);
    board.markBusy('a', owner, ['extension:101']);
    board.markFree(owner);
    expect(board.isBusy('a', 'extension:101')).toBe(false);
  });

  it('tells each account’s listeners of its own changes, debounced, with the calls in the snapshot', async () => {
    const board = createLiveBoard({ dayStats: async () => ({ answered: 2, abandoned: 1, serviceLevel: 0.5 }), debounceMs: 20 });
    let a = 0;
    let b = 0;
    board.subscribe('a', () => a++);
    board.subscribe('b', () => b++);
    board.started('a', call('c1'));
    board.update('a', 'c1', { state: 'talking', agent: 'extension:101' });
    await new Promise((r) => setTimeout(r, 60));
    expect([a, b]).toEqual([1, 0]);
    const snapshot = await board.snapshot('a');
    expect(snapshot.calls).toEqual([expect.objectContaining({ callId: 'c1', state: 'talking', agent: 'extension:101' })]);
    expect(snapshot.today).toEqual({ answered: 2, abandoned: 1, serviceLevel: 0.5 });
    board.ended('a', 'c1');
    expect((await board.snapshot('a')).calls).toEqual([]);
    expect((await board.snapshot('b')).calls).toEqual([]);
  });
});
