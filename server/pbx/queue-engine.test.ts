import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { createQueueEngine, type QueuedCall } from './queue-engine.js';
import type { Queue } from './queues.schemas.js';

const ACCOUNT = 'acc-1';
const queue = (over: Partial<Queue> = {}): Queue => ({
  id: 'q1',
  name: 'support',
  strategy: 'longest-idle',
  members: ['extension:401', 'extension:402'],
  ringSeconds: 5,
  wrapUpSeconds: 0,
  maxWaitSeconds: 60,
  announceSeconds: 0,
  serviceLevelSeconds: 20,
  music: null,
  createdAt: '',
  updatedAt: '',
  ...over,
});

function engineWith(q: Queue, o: { registered?: string[]; clock?: { t: number } } = {}) {
  const registered = new Set(o.registered ?? ['401', '402']);
  return createQueueEngine({
    queueOf: async (_accountId, name) => (name === q.name ? q : undefined),
    queuesOf: async () => [q],
    isRegistered: async (_a, extension) => registered.has(extension),
    isBusy: () => false,
    speak: async () => undefined,
    musicFile: () => undefined,
    logger: createLogger('silent'),
    tickMs: 5,
    ...(o.clock ? { now: () => o.clock!.t } : {}),
  });
}

/** A caller whose offers are answered by whoever is offered first (or never). */
function caller(id: string, answer = true) {
  const offers: string[][] = [];
  let ended = false;
  const call: QueuedCall = {
    callId: id,
    accountId: ACCOUNT,
    caller: `+7999000000${id}`,
    get ended() {
      return ended;
    },
    endedPromise: new Promise(() => undefined),
    startPrompt: async () => 0,
    stopPrompt: async () => undefined,
    offer: async (targets) => {
      offers.push(targets);
      return answer ? { outcome: 'answered', target: targets[0]! } : { outcome: 'no-answer' };
    },
  };
  return { call, offers, hangUp: () => (ended = true) };
}

describe('queue engine', () => {
  it('round-robin offers agents in turn; ring-all offers every free agent at once', async () => {
    const rr = engineWith(queue({ strategy: 'round-robin' }));
    const turns: string[][] = [];
    for (const id of ['1', '2', '3']) {
      const c = caller(id);
      expect(await rr.wait(c.call, 'support', () => undefined)).toBe('answered');
      turns.push(...c.offers);
    }
    expect(turns).toEqual([['extension:401'], ['extension:402'], ['extension:401']]);
    const all = caller('4');
    expect(await engineWith(queue({ strategy: 'ring-all' })).wait(all.call, 'support', () => undefined)).toBe('answered');
    expect(all.offers).toEqual([['extension:401', 'extension:402']]);
  });

  it('longest-idle offers the agent free longest, and skips a paused one', async () => {
    const engine = engineWith(queue());
    engine.agentFree(ACCOUNT, 'extension:401', { wrapUpSeconds: 0 });
    await new Promise((r) => setTimeout(r, 5));
    engine.agentFree(ACCOUNT, 'extension:402', { wrapUpSeconds: 0 });
    const first = caller('1');
    await engine.wait(first.call, 'support', () => undefined);
    expect(first.offers).toEqual([['extension:401']]);
    engine.setStatus(ACCOUNT, '401', 'paused');
    const second = caller('2');
    await engine.wait(second.call, 'support', () => undefined);
    expect(second.offers).toEqual([['extension:402']]);
    expect((await engine.board(ACCOUNT))[0]?.agents).toEqual([
      { extension: '401', state: 'paused' },
      { extension: '402', state: 'available' },
    ]);
  });

  it('goes on when nobody is logged in, when the maximum wait passes, and reports a caller who hung up', async () => {
    expect(await engineWith(queue(), { registered: [] }).wait(caller('1').call, 'support', () => undefined)).toBe('no-agents');
    const clock = { t: 0 };
    const engine = engineWith(queue({ maxWaitSeconds: 30 }), { clock });
    engine.setStatus(ACCOUNT, '401', 'paused');
    engine.setStatus(ACCOUNT, '402', 'paused');
    let joined = false;
    const waiting = engine.wait(caller('2').call, 'support', () => {
      joined = true;
    });
    while (!joined) await new Promise((r) => setTimeout(r, 5));
    clock.t = 31_000;
    expect(await waiting).toBe('timeout');
    const leaving = caller('3');
    const result = engine.wait(leaving.call, 'support', () => undefined);
    leaving.hangUp();
    expect(await result).toBe('caller-gone');
    expect(await engine.wait(caller('4').call, 'nowhere', () => undefined)).toBe('no-queue');
  });

  it('an agent who does not answer rests for a ring time; the next free agent gets the call', async () => {
    const engine = engineWith(queue());
    let n = 0;
    const c = caller('1');
    c.call.offer = async (targets) => {
      c.offers.push(targets);
      return n++ === 0 ? { outcome: 'no-answer' } : { outcome: 'answered', target: targets[0]! };
    };
    expect(await engine.wait(c.call, 'support', () => undefined)).toBe('answered');
    expect(c.offers).toEqual([['extension:401'], ['extension:402']]);
  });
});
