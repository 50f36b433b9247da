import type { ForwardOutcome } from '../dialplans/call-control.js';
import type { Logger } from '../logger.js';
import type { Queue } from './queues.schemas.js';

/** What the engine needs of a waiting call (a LiveCall in production). */
export interface QueuedCall {
  readonly callId: string;
  readonly accountId: string;
  readonly caller: string;
  readonly ended: boolean;
  readonly endedPromise: Promise<void>;
  /** Answers the caller if needed and starts a file; resolves with its length in ms (0 when it could not play). */
  startPrompt(file: string): Promise<number>;
  stopPrompt(): Promise<void>;
  /** Rings agents at once; the first to answer is bridged. */
  offer(targets: string[], ringSeconds: number): Promise<ForwardOutcome>;
}

export type QueueResult = 'answered' | 'timeout' | 'no-agents' | 'caller-gone' | 'no-queue';

export type AgentState = 'available' | 'ringing' | 'busy' | 'wrap-up' | 'paused' | 'offline';

/** One queue now, as the wallboard shows it. */
export interface QueueBoard {
  name: string;
  waiting: Array<{ callId: string; caller: string; position: number; waitSeconds: number; announcedPosition: number | null }>;
  agents: Array<{ extension: string; state: AgentState }>;
}

export interface QueueEngineDeps {
  queueOf(accountId: string, name: string): Promise<Queue | undefined>;
  /** Every queue of the account (the board shows them all, waiting or not). */
  queuesOf(accountId: string): Promise<Queue[]>;
  /** Whether the extension has a phone registered (an agent with none is not logged in). */
  isRegistered(accountId: string, extension: string): Promise<boolean>;
  /** Whether a dialplan target is on a call now. */
  isBusy(accountId: string, target: string): boolean;
  /** A WAV file saying `text` (position announcements); undefined when speech is unavailable. */
  speak(text: string): Promise<string | undefined>;
  /** The music file to loop for a queue (its `music`, else the default), or undefined for silence. */
  musicFile(queue: Queue): string | undefined;
  logger: Logger;
  now?: () => number;
  /** How often a waiting caller looks for a free agent besides being woken (default 250 ms). */
  tickMs?: number;
}

export interface QueueEngine {
  /**
   * Keeps the call in the queue until an agent answers (bridged: 'answered'), the caller hangs up,
   * the maximum wait passes or no agent is logged in. `onJoined` gets the queue as the call enters.
   */
  wait(call: QueuedCall, name: string, onJoined: (queue: Queue) => void): Promise<QueueResult>;
  /**
   * A call an agent answered ended: wrap-up starts (when the call came through a queue), idle time
   * counts from now, and a queue call's talk time feeds the expected wait.
   */
  agentFree(accountId: string, target: string, o: { wrapUpSeconds: number; queueTalkSeconds?: number | undefined }): void;
  setStatus(accountId: string, extension: string, status: 'available' | 'paused'): void;
  board(accountId: string): Promise<QueueBoard[]>;
  /** Called with the account whose queues changed. */
  subscribe(listener: (accountId: string) => void): () => void;
}

interface Waiting {
  call: QueuedCall;
  joinedAt: number;
  offering: boolean;
  announcedPosition: number | null;
}

interface Agent {
  paused: boolean;
  wrapUntil: number;
  lastFreeAt: number;
  ringing: boolean;
}

const EXTENSION = 'extension:';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The ACD. Waiting callers, agents' pause and wrap-up, and idle times are this node's memory: one
 * node owns the queues (several nodes would share them through Redis; not built). Each waiting call
 * runs its own loop: the caller at the head claims a free agent (longest idle, in turn, or all at
 * once), everyone else hears music and, now and then, their position and expected wait.
 */
export function createQueueEngine(deps: QueueEngineDeps): QueueEngine {
  const now = deps.now ?? Date.now;
  const tickMs = deps.tickMs ?? 250;
  const log = deps.logger.child({ component: 'queues' });
  const waiting = new Map<string, Waiting[]>();
  const agents = new Map<string, Agent>();
  const turns = new Map<string, number>();
  const listeners = new Set<(accountId: string) => void>();
  const wakers = new Set<() => void>();
  /** How long queue calls last, for the expected wait (moving average; starts at two minutes). */
  let handleSeconds = 120;

  const keyOf = (accountId: string, name: string) => `${accountId}|${name.toLowerCase()}`;
  const agentOf = (accountId: string, extension: string) => {
    const key = `${accountId}|${extension}`;
    let agent = agents.get(key);
    if (!agent) {
      agent = { paused: false, wrapUntil: 0, lastFreeAt: 0, ringing: false };
      agents.set(key, agent);
    }
    return agent;
  };
  const changed = (accountId: string) => {
    for (const wake of [...wakers]) wake();
    for (const listener of listeners) listener(accountId);
  };

  // Every waiting caller looks at the agents several times a second: registrations are read at most once a second.
  const registeredCache = new Map<string, { at: number; value: Promise<boolean> }>();
  const isRegistered = (accountId: string, extension: string): Promise<boolean> => {
    const key = `${accountId}|${extension}`;
    const hit = registeredCache.get(key);
    if (hit && Date.now() - hit.at < 1_000) return hit.value;
    const value = deps.isRegistered(accountId, extension).catch(() => false);
    registeredCache.set(key, { at: Date.now(), value });
    return value;
  };

  /** A paused agent shows paused even with no phone registered (the manager's choice stands); offline otherwise. */
  async function stateOf(accountId: string, member: string): Promise<AgentState> {
    const extension = member.slice(EXTENSION.length);
    const agent = agentOf(accountId, extension);
    if (!(await isRegistered(accountId, extension))) return agent.paused ? 'paused' : 'offline';
    if (agent.ringing) return 'ringing';
    if (deps.isBusy(accountId, member)) return 'busy';
    if (agent.paused) return 'paused';
    if (agent.wrapUntil > now()) return 'wrap-up';
    return 'available';
  }

  /** The agents to offer the head caller to now, by the queue's strategy; [] when nobody is free. */
  async function pickAgents(queue: Queue, accountId: string): Promise<{ free: string[]; loggedIn: number }> {
    const states = await Promise.all(
      queue.members.map(async (member) => ({
        member,
        state: await stateOf(accountId, member),
        registered: await isRegistered(accountId, member.slice(EXTENSION.length)),
      })),
    );
    const free = states.filter((s) => s.state === 'available').map((s) => s.member);
    // Logged in = a phone registered, paused or not: with nobody logged in the caller goes on at once.
    const loggedIn = states.filter((s) => s.registered).length;
    if (free.length === 0 || queue.strategy === 'ring-all') return { free, loggedIn };
    if (queue.strategy === 'round-robin') {
      const turn = turns.get(keyOf(accountId, queue.name)) ?? 0;
      // The next free member at or after the turn's position in the member list.
      const ordered = queue.members.slice(turn % queue.members.length).concat(queue.members.slice(0, turn % queue.members.length));
      const next = ordered.find((member) => free.includes(member))!;
      turns.set(keyOf(accountId, queue.name), queue.members.indexOf(next) + 1);
      return { free: [next], loggedIn };
    }
    const idlest = free.reduce((best, member) =>
      agentOf(accountId, member.slice(EXTENSION.length)).lastFreeAt < agentOf(accountId, best.slice(EXTENSION.length)).lastFreeAt ? member : best,
    );
    return { free: [idlest], loggedIn };
  }

  async function announce(entry: Waiting, position: number, loggedIn: number): Promise<number> {
    const minutes = Math.max(1, Math.round((position * handleSeconds) / Math.max(1, loggedIn) / 60));
    const file = await deps.speak(`You are number ${position} in the queue. Your expected wait is about ${minutes} minute${minutes === 1 ? '' : 's'}.`);
    entry.announcedPosition = position;
    log.info({ callId: entry.call.callId, type: 'queue_position_announced', position, minutes }, 'position announced');
    changed(entry.call.accountId);
    if (!file) return 0;
    await entry.call.stopPrompt();
    return entry.call.startPrompt(file);
  }

  return {
    async wait(call, name, onJoined) {
      const queue = await deps.queueOf(call.accountId, name).catch(() => undefined);
      if (!queue) {
        log.warn({ callId: call.callId, type: 'queue_unknown', queue: name }, 'no such queue; the plan goes on');
        return 'no-queue';
      }
      const key = keyOf(call.accountId, queue.name);
      const entry: Waiting = { call, joinedAt: now(), offering: false, announcedPosition: null };
      const line = waiting.get(key) ?? [];
      waiting.set(key, line);
      line.push(entry);
      onJoined(queue);
      log.info({ callId: call.callId, type: 'queue_joined', queue: queue.name, position: line.length }, 'caller joined the queue');
      changed(call.accountId);

      let promptEndsAt = 0;
      let nextAnnounceAt = queue.announceSeconds > 0 ? now() : Number.POSITIVE_INFINITY;
      const music = deps.musicFile(queue);
      const leave = async (result: QueueResult) => {
        const at = line.indexOf(entry);
        if (at >= 0) line.splice(at, 1);
        if (result !== 'caller-gone') await call.stopPrompt().catch(() => undefined);
        log.info(
          { callId: call.callId, type: 'queue_left', queue: queue.name, result, waitSeconds: Math.round((now() - entry.joinedAt) / 1000) },
          'caller left the queue',
        );
        changed(call.accountId);
        return result;
      };

      for (;;) {
        if (call.ended) return leave('caller-gone');
        if (now() - entry.joinedAt >= queue.maxWaitSeconds * 1000) return leave('timeout');
        const position = line.filter((e) => !e.offering).indexOf(entry) + 1;
        const { free, loggedIn } = await pickAgents(queue, call.accountId);
        if (call.ended) return leave('caller-gone');
        if (loggedIn === 0) return leave('no-agents');
        if (!entry.offering && position === 1 && free.length > 0) {
          entry.offering = true;
          const offered = free.map((member) => agentOf(call.accountId, member.slice(EXTENSION.length)));
          for (const agent of offered) agent.ringing = true;
          changed(call.accountId);
          const outcome = await call.offer(free, queue.ringSeconds).catch((): ForwardOutcome => ({ outcome: 'failed' }));
          for (const agent of offered) agent.ringing = false;
          entry.offering = false;
          if (outcome.outcome === 'answered') return leave('answered');
          if (outcome.outcome === 'caller-gone' || call.ended) return leave('caller-gone');
          // Nobody picked up: those agents rest for a ring time so the next free one gets the call.
          for (const agent of offered) agent.wrapUntil = Math.max(agent.wrapUntil, now() + queue.ringSeconds * 1000);
          log.info({ callId: call.callId, type: 'queue_offer_missed', agents: free, outcome: outcome.outcome }, 'offered agent(s) did not answer');
          changed(call.accountId);
          continue;
        }
        if (!entry.offering && now() >= nextAnnounceAt && position > 0) {
          nextAnnounceAt = now() + Math.max(queue.announceSeconds, 1) * 1000;
          promptEndsAt = now() + (await announce(entry, position, loggedIn));
        } else if (now() >= promptEndsAt && music) {
          promptEndsAt = now() + Math.max(await call.startPrompt(music), 1000);
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            wakers.delete(wake);
            resolve();
          };
          wakers.add(wake);
          void Promise.race([sleep(tickMs), call.endedPromise]).then(wake);
        });
      }
    },

    agentFree(accountId, target, { wrapUpSeconds, queueTalkSeconds }) {
      if (queueTalkSeconds !== undefined) handleSeconds = handleSeconds * 0.8 + queueTalkSeconds * 0.2;
      if (!target.startsWith(EXTENSION)) return;
      const agent = agentOf(accountId, target.slice(EXTENSION.length));
      agent.lastFreeAt = now();
      agent.wrapUntil = Math.max(agent.wrapUntil, now() + wrapUpSeconds * 1000);
      changed(accountId);
      // Wrap-up ending frees the agent for waiting callers.
      if (wrapUpSeconds > 0) setTimeout(() => changed(accountId), wrapUpSeconds * 1000 + 10).unref();
    },

    setStatus(accountId, extension, status) {
      agentOf(accountId, extension).paused = status === 'paused';
      log.info({ type: 'agent_status', extension, status }, 'agent status changed');
      changed(accountId);
    },

    async board(accountId) {
      const queues = await deps.queuesOf(accountId).catch(() => []);
      return Promise.all(
        queues.map(async (queue) => {
          const line = waiting.get(keyOf(accountId, queue.name)) ?? [];
          return {
            name: queue.name,
            waiting: line.map((entry, i) => ({
              callId: entry.call.callId,
              caller: entry.call.caller,
              position: i + 1,
              waitSeconds: Math.round((now() - entry.joinedAt) / 1000),
              announcedPosition: entry.announcedPosition,
            })),
            agents: await Promise.all(
              queue.members.map(async (member) => ({ extension: member.slice(EXTENSION.length), state: await stateOf(accountId, member) })),
            ),
          };
        }),
      );
    },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
