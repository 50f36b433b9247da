import type { QueueBoard, QueueEngine } from './queue-engine.js';

/** A call in progress, as the wallboard shows it. */
export interface LiveCallInfo {
  callId: string;
  direction: 'inbound' | 'outbound' | 'internal';
  caller: string;
  trackingNumber: string;
  startedAt: string;
  state: 'ringing' | 'queued' | 'talking';
  queue: string | null;
  /** The dialplan target that answered (extension:101, a SIP URI). */
  agent: string | null;
  /** The screen pop: where the caller came from, as attribution knew it when the call arrived. */
  source?: string | null;
  medium?: string | null;
  campaign?: string | null;
  keyword?: string | null;
  landingPage?: string | null;
  firstTime?: boolean | null;
  priorCalls?: number;
}

export interface LiveSnapshot {
  at: string;
  calls: LiveCallInfo[];
  queues: QueueBoard[];
  today: { answered: number; abandoned: number; serviceLevel: number | null };
}

export interface LiveBoard {
  started(accountId: string, call: LiveCallInfo): void;
  update(accountId: string, callId: string, change: Partial<Omit<LiveCallInfo, 'callId'>>): void;
  ended(accountId: string, callId: string): void;
  /** Marks dialplan targets as on a call (by `owner`, a call); group members and agents on a call are skipped. */
  markBusy(accountId: string, owner: object, targets: string[]): void;
  markFree(owner: object): void;
  /** One target of a call is free again (transferred away) while the call goes on. */
  markTargetFree(accountId: string, owner: object, target: string): void;
  isBusy(accountId: string, target: string): boolean;
  snapshot(accountId: string): Promise<LiveSnapshot>;
  /** Calls `listener` (at most every `debounceMs`) when the account's calls or queues change. */
  subscribe(accountId: string, listener: () => void): () => void;
}

export interface LiveBoardDeps {
  queues?: Pick<QueueEngine, 'board' | 'subscribe'> | undefined;
  /** Today's queue figures (answered, abandoned, service level), from the stored calls. */
  dayStats(accountId: string): Promise<LiveSnapshot['today']>;
  debounceMs?: number;
}

const NO_DAY: LiveSnapshot['today'] = { answered: 0, abandoned: 0, serviceLevel: null };

/**
 * What is happening now, per account: live calls, queues with their waiting callers and agents,
 * and today's queue figures. The call path reports to it; GET /v1/live streams it.
 */
export function createLiveBoard(deps: LiveBoardDeps): LiveBoard {
  const calls = new Map<string, Map<string, LiveCallInfo>>();
  const busy = new Map<string, number>();
  const busyBy = new Map<object, string[]>();
  const listeners = new Map<string, Set<() => void>>();
  const pending = new Map<string, NodeJS.Timeout>();
  const debounceMs = deps.debounceMs ?? 100;
  const busyKey = (accountId: string, target: string) => `${accountId}|${target}`;

  const changed = (accountId: string) => {
    if (pending.has(accountId) || !listeners.get(accountId)?.size) return;
    pending.set(
      accountId,
      setTimeout(() => {
        pending.delete(accountId);
        for (const listener of listeners.get(accountId) ?? []) listener();
      }, debounceMs),
    );
  };
  deps.queues?.subscribe(changed);
  const ofAccount = (accountId: string) => {
    let map = calls.get(accountId);
    if (!map) {
      map = new Map();
      calls.set(accountId, map);
    }
    return map;
  };

  return {
    started(accountId, call) {
      ofAccount(accountId).set(call.callId, call);
      changed(accountId);
    },
    update(accountId, callId, change) {
      const call = calls.get(accountId)?.get(callId);
      if (!call) return;
      Object.assign(call, change);
      changed(accountId);
    },
    ended(accountId, callId) {
      calls.get(accountId)?.delete(callId);
      changed(accountId);
    },
    markBusy(accountId, owner, targets) {
      // A call is answered early for a prompt and later by an agent: each target counts once per call.
      const held = busyBy.get(owner) ?? [];
      const added = targets.map((target) => busyKey(accountId, target)).filter((key) => !held.includes(key));
      if (added.length === 0) return;
      busyBy.set(owner, [...held, ...added]);
      for (const key of added) busy.set(key, (busy.get(key) ?? 0) + 1);
      changed(accountId);
    },
    markFree(owner) {
      const keys = busyBy.get(owner);
      if (!keys) return;
      busyBy.delete(owner);
      for (const key of keys) {
        const left = (busy.get(key) ?? 1) - 1;
        if (left > 0) busy.set(key, left);
        else busy.delete(key);
      }
      const accountId = keys[0]?.split('|')[0];
      if (accountId) changed(accountId);
    },
    markTargetFree(accountId, owner, target) {
      const key = busyKey(accountId, target);
      const held = busyBy.get(owner);
      if (!held?.includes(key)) return;
      busyBy.set(
        owner,
        held.filter((k) => k !== key),
      );
      const left = (busy.get(key) ?? 1) - 1;
      if (left > 0) busy.set(key, left);
      else busy.delete(key);
      changed(accountId);
    },
    isBusy: (accountId, target) => (busy.get(busyKey(accountId, target)) ?? 0) > 0,
    async snapshot(accountId) {
      const [queues, today] = await Promise.all([deps.queues?.board(accountId) ?? [], deps.dayStats(accountId).catch(() => NO_DAY)]);
      return { at: new Date().toISOString(), calls: [...(calls.get(accountId)?.values() ?? [])].map((c) => ({ ...c })), queues, today };
    },
    subscribe(accountId, listener) {
      let set = listeners.get(accountId);
      if (!set) {
        set = new Set();
        listeners.set(accountId, set);
      }
      set.add(listener);
      return () => set.delete(listener);
    },
  };
}
