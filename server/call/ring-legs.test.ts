import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AgentLeg } from '../sip/agent-leg.js';
import type { SipResponse } from '../sip/sip-types.js';
import { failedRing, type RingHooks, ringLegs } from './ring-legs.js';

/** An agent leg as the ringing sees it: the responses are ours to send, what it was told is recorded. */
function fakeLeg(target: string) {
  let onResponse: (r: SipResponse) => void = () => {};
  const leg = {
    target,
    state: 'calling' as AgentLeg['state'],
    finalStatus: undefined as number | undefined,
    acks: 0,
    byes: 0,
    cancels: 0,
    send(handler: (r: SipResponse) => void) {
      onResponse = handler;
    },
    ack() {
      leg.acks++;
    },
    bye() {
      leg.byes++;
    },
    cancel() {
      leg.cancels++;
      leg.state = 'cancelled';
    },
    respond(status: number, content?: string) {
      onResponse({ status, reason: '', headers: {}, content } as unknown as SipResponse);
    },
  };
  return leg;
}
type FakeLeg = ReturnType<typeof fakeLeg>;
const asLegs = (legs: FakeLeg[]) => legs as unknown as AgentLeg[];

function hooks(over: Partial<RingHooks> = {}): RingHooks & { provisionals: number[] } {
  const provisionals: number[] = [];
  return {
    provisionals,
    provisional: (_leg, r) => void provisionals.push(r.status),
    bridge: async () => 'bridged',
    ended: () => false,
    ...over,
  };
}

afterEach(() => vi.useRealTimers());

describe('ringLegs', () => {
  it('the first answer wins: the others are cancelled, and one answering after is ACKed and hung up', async () => {
    const [a, b, c] = [fakeLeg('sip:a@x'), fakeLeg('sip:b@x'), fakeLeg('sip:c@x')];
    const h = hooks();
    const ringing = ringLegs(asLegs([a!, b!, c!]), 20, h);
    b!.respond(180);
    b!.respond(200, 'v=0');
    const { outcome } = await ringing.result;
    expect(outcome).toEqual({ outcome: 'answered', target: 'sip:b@x' });
    expect(h.provisionals).toEqual([180]);
    expect(b!.state).toBe('answered');
    expect([a!.cancels, c!.cancels, b!.cancels]).toEqual([1, 1, 0]);
    c!.respond(200, 'v=0');
    expect([c!.acks, c!.byes]).toEqual([1, 1]);
    // The winner's 2xx again (our ACK was lost): ACKed again, not hung up.
    b!.respond(200, 'v=0');
    expect([b!.acks, b!.byes]).toEqual([2, 0]);
  });

  it('every leg refusing: busy if any was busy, no-answer if none picked up, the loop status when all saw a loop', async () => {
    const [a, b] = [fakeLeg('sip:a@x'), fakeLeg('sip:b@x')];
    const ringing = ringLegs(asLegs([a!, b!]), 20, hooks());
    a!.respond(480);
    b!.respond(486);
    expect(await ringing.result).toEqual({ outcome: { outcome: 'busy' } });
    expect([a!.state, a!.finalStatus]).toEqual(['failed', 480]);
    expect(failedRing([408, 480, 487])).toEqual({ outcome: { outcome: 'no-answer' } });
    expect(failedRing([503, 480])).toEqual({ outcome: { outcome: 'failed' } });
    expect(failedRing([483, 482])).toEqual({ outcome: { outcome: 'failed' }, loopStatus: 483 });
  });

  it('nobody answering in time is no-answer, and an answer after that is hung up', async () => {
    vi.useFakeTimers();
    const a = fakeLeg('sip:a@x');
    const ringing = ringLegs(asLegs([a]), 5, hooks());
    vi.advanceTimersByTime(5_000);
    expect(await ringing.result).toEqual({ outcome: { outcome: 'no-answer' } });
    expect(a.cancels).toBe(1);
    a.respond(200, 'v=0');
    expect([a.acks, a.byes]).toEqual([1, 1]);
  });

  it('the caller giving up cancels every leg still ringing', async () => {
    const [a, b] = [fakeLeg('sip:a@x'), fakeLeg('sip:b@x')];
    const ringing = ringLegs(asLegs([a!, b!]), 20, hooks());
    a!.respond(503);
    ringing.cancel();
    expect(await ringing.result).toEqual({ outcome: { outcome: 'caller-gone' } });
    expect([a!.cancels, b!.cancels]).toEqual([0, 1]);
  });

  it('a leg that cannot be bridged is hung up and the ring fails; a call that ended meanwhile is gone', async () => {
    const a = fakeLeg('sip:a@x');
    const failing = ringLegs(asLegs([a]), 20, hooks({ bridge: async () => 'failed' }));
    a.respond(200, 'v=0');
    expect(await failing.result).toEqual({ outcome: { outcome: 'failed' } });
    expect(a.byes).toBe(1);
    const b = fakeLeg('sip:b@x');
    const gone = ringLegs(asLegs([b]), 20, hooks({ bridge: async () => 'gone' }));
    b.respond(200, 'v=0');
    expect(await gone.result).toEqual({ outcome: { outcome: 'caller-gone' } });
    expect(b.byes).toBe(0);
  });
});
