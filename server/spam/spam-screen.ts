import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { listAllBlocks, listAllPolicies } from './spam.repository.js';
import { type CallerBlock, DEFAULT_SPAM_POLICY, MAX_BURST_CALLS, type SpamPolicy } from './spam.schemas.js';

export type ScreenVerdict =
  | { verdict: 'ok' }
  | { verdict: 'blocked'; action: CallerBlock['action']; pattern: string }
  | { verdict: 'flagged'; reasons: string[]; gate: boolean };

const BURST_WINDOW_MS = 10 * 60_000;
const SHORT_CALL_SECONDS = 5;
const MAX_TRACKED_CALLERS = 100_000;

/** A block pattern matches the caller: the number itself, a prefix ending in '*', or 'anonymous' for callers without a number. */
export function blockMatches(pattern: string, caller: string): boolean {
  if (pattern === 'anonymous') return !caller.startsWith('+');
  return pattern.endsWith('*') ? caller.startsWith(pattern.slice(0, -1)) : caller === pattern;
}

/**
 * Screens callers at INVITE time from memory (no round trip on the call path; the lists are
 * reloaded with provisioning changes and every 30 s, and the last good copy serves while Postgres
 * is away). Recent calls per caller are counted in this process: a burst through several nodes is
 * seen by each node in part.
 */
export interface SpamScreen {
  screen(call: { accountId: string; caller: string }, now?: number): ScreenVerdict;
  /** A call ended: its length feeds the short-calls streak. */
  noteEnded(call: { accountId: string; caller: string; talkSeconds: number; answered: boolean }): void;
  refresh(): Promise<boolean>;
  close(): void;
}

export function createSpamScreen({ db, logger, refreshMs = 30_000 }: { db: Db; logger: Logger; refreshMs?: number }): SpamScreen {
  let blocks = new Map<string, CallerBlock[]>();
  let policies = new Map<string, SpamPolicy>();
  const recentCalls = new Map<string, number[]>();
  const shortStreaks = new Map<string, number>();
  const keyOf = (accountId: string, caller: string) => `${accountId}|${caller}`;

  async function refresh(): Promise<boolean> {
    try {
      const [allBlocks, allPolicies] = await Promise.all([listAllBlocks(db), listAllPolicies(db)]);
      const byAccount = new Map<string, CallerBlock[]>();
      for (const block of allBlocks) byAccount.set(block.accountId, [...(byAccount.get(block.accountId) ?? []), block]);
      blocks = byAccount;
      policies = new Map(allPolicies.map((policy) => [policy.accountId, policy]));
      return true;
    } catch (err) {
      logger.warn({ err, type: 'spam_refresh_failed' }, 'spam lists not refreshed; serving the cached ones');
      return false;
    }
  }
  const timer = setInterval(() => void refresh(), refreshMs);
  timer.unref();

  return {
    screen({ accountId, caller }, now = Date.now()) {
      const block = blocks.get(accountId)?.find((candidate) => blockMatches(candidate.pattern, caller));
      if (block) return { verdict: 'blocked', action: block.action, pattern: block.pattern };
      const policy = policies.get(accountId) ?? DEFAULT_SPAM_POLICY;
      const key = keyOf(accountId, caller);
      // Oldest first: what left the window goes, and no more are kept than a policy can ask about
      // (one caller hammering us grew this without bound, and filtering it cost O(n) per call).
      const recent = recentCalls.get(key) ?? [];
      let gone = 0;
      while (gone < recent.length && now - recent[gone]! >= BURST_WINDOW_MS) gone++;
      recent.splice(0, Math.max(gone, recent.length + 1 - MAX_BURST_CALLS));
      recent.push(now);
      if (recentCalls.size > MAX_TRACKED_CALLERS) recentCalls.clear();
      recentCalls.set(key, recent);
      const reasons: string[] = [];
      if (policy.flagAnonymous && !caller.startsWith('+')) reasons.push('anonymous or invalid caller id');
      if (policy.burstCalls > 0 && recent.length >= policy.burstCalls) reasons.push(`${recent.length} calls in 10 minutes`);
      const streak = shortStreaks.get(key) ?? 0;
      if (policy.shortCallStreak > 0 && streak >= policy.shortCallStreak) reasons.push(`${streak} calls in a row under ${SHORT_CALL_SECONDS} s`);
      return reasons.length > 0 ? { verdict: 'flagged', reasons, gate: policy.gate } : { verdict: 'ok' };
    },
    noteEnded({ accountId, caller, talkSeconds, answered }) {
      const key = keyOf(accountId, caller);
      if (shortStreaks.size > MAX_TRACKED_CALLERS) shortStreaks.clear();
      // A call nobody answered says nothing about the caller: only short answered calls build a streak.
      if (!answered) return;
      if (talkSeconds < SHORT_CALL_SECONDS) shortStreaks.set(key, (shortStreaks.get(key) ?? 0) + 1);
      else shortStreaks.delete(key);
    },
    refresh,
    close: () => clearInterval(timer),
  };
}
