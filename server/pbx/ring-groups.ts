import type { Db } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { Redis } from '../redis/client.js';
import { findGroupByName } from './groups.repository.js';
import type { Group } from './groups.schemas.js';

/** How a forward rings one group now: its members in order, at once or in turn. */
export interface GroupPlan {
  groupId: string;
  members: string[];
  strategy: 'simultaneous' | 'sequential';
  ringSeconds: number;
}

export interface RingGroups {
  /** The members of `group:<name>` in the order to ring them now; undefined when the account has no such group. */
  plan(accountId: string, name: string): Promise<GroupPlan | undefined>;
  /** A member's call through the group ended: longest-idle rings it last until the others have had one. */
  noteFree(groupId: string, member: string, at: Date): void;
  /** Groups changed (API): drop cached copies. */
  invalidate(): void;
}

const FRESH_MS = 5_000;

/**
 * Groups come from Postgres through a short cache that also keeps the last copy while Postgres is
 * away (calls still ring the group). Round-robin positions and members' idle times live in Redis, so
 * every node rotates the same group the same way; without Redis a node falls back to its own memory.
 */
export function createRingGroups({ db, redis, logger }: { db: Db; redis: Redis; logger: Logger }): RingGroups {
  const cache = new Map<string, { group: Group | undefined; at: number }>();
  const localTurns = new Map<string, number>();
  const localIdle = new Map<string, Map<string, number>>();
  const log = logger.child({ component: 'ring-groups' });

  async function groupOf(accountId: string, name: string): Promise<Group | undefined> {
    const key = `${accountId}|${name.toLowerCase()}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < FRESH_MS) return hit.group;
    try {
      const group = await findGroupByName(db, accountId, name);
      cache.set(key, { group, at: Date.now() });
      return group;
    } catch (err) {
      log.warn({ err, type: 'ring_group_stale', group: name }, 'database unavailable; ringing the last known copy of the group');
      return hit?.group;
    }
  }

  async function nextTurn(groupId: string): Promise<number> {
    try {
      return await redis.incr(`groups:turn:${groupId}`);
    } catch {
      const n = (localTurns.get(groupId) ?? 0) + 1;
      localTurns.set(groupId, n);
      return n;
    }
  }

  async function idleSince(groupId: string): Promise<Map<string, number>> {
    try {
      const stored = await redis.hgetall(`groups:idle:${groupId}`);
      return new Map(Object.entries(stored).map(([member, ms]) => [member, Number(ms)]));
    } catch {
      return localIdle.get(groupId) ?? new Map();
    }
  }

  return {
    async plan(accountId, name) {
      const group = await groupOf(accountId, name);
      if (!group) return undefined;
      let members = group.members;
      if (group.strategy === 'round-robin' && members.length > 1) {
        const start = ((await nextTurn(group.id)) - 1) % members.length;
        members = [...members.slice(start), ...members.slice(0, start)];
      } else if (group.strategy === 'longest-idle') {
        const idle = await idleSince(group.id);
        // Never rung through the group counts as idle the longest; ties keep the list order.
        members = members
          .map((member, index) => ({ member, index, since: idle.get(member) ?? 0 }))
          .sort((a, b) => a.since - b.since || a.index - b.index)
          .map((m) => m.member);
      }
      return { groupId: group.id, members, strategy: group.strategy === 'simultaneous' ? 'simultaneous' : 'sequential', ringSeconds: group.ringSeconds };
    },
    noteFree(groupId, member, at) {
      const ms = at.getTime();
      const local = localIdle.get(groupId) ?? new Map<string, number>();
      local.set(member, ms);
      localIdle.set(groupId, local);
      redis
        .hset(`groups:idle:${groupId}`, member, String(ms))
        .catch((err: unknown) => log.warn({ err, type: 'ring_group_idle_not_saved' }, 'idle time kept in memory only'));
    },
    invalidate() {
      cache.clear();
    },
  };
}
