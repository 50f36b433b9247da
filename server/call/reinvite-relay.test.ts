import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import type { CallMedia } from '../media/call-media.js';
import type { SipStack } from '../sip/sip-stack.js';
import type { SipRequest, SipResponse } from '../sip/sip-types.js';
import { type ReinvitePeer, relayReinvite } from './reinvite-relay.js';

const AGENT_SDP = 'v=0\r\no=agent 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n';
const HOLD = 'v=0\r\no=carrier 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n';

/** The parties of a bridged call: what each side was sent, and a way to answer the agent's re-INVITE. */
function bridged() {
  const replies: number[] = [];
  let offered = false;
  const answers: string[] = [];
  const acks: number[] = [];
  const reanswered: string[] = [];
  let agentResponds: (response: SipResponse) => void = () => {};
  const stack = {
    host: '192.0.2.9',
    reply: (_r: SipRequest, status: number) => void replies.push(status),
    replyError: (_r: SipRequest, error: { sipStatus: number }) => void replies.push(error.sipStatus),
  } as unknown as SipStack;
  const caller: ReinvitePeer = {
    reinvite: () => undefined,
    answerReinvite: (_request, sdp) => void answers.push(sdp),
    ackReinvite: () => undefined,
    localSdp: 'ours',
    remoteSdp: HOLD,
  };
  const agent: ReinvitePeer = {
    reinvite: (_sdp, onResponse) => {
      offered = true;
      agentResponds = onResponse;
    },
    answerReinvite: () => undefined,
    ackReinvite: (response) => void acks.push(response.status),
    localSdp: 'ours',
    remoteSdp: AGENT_SDP,
  };
  const media = {
    reoffer: async () => 'offer for the agent',
    reanswer: async (_offerer: string, sdp: string) => {
      reanswered.push(sdp);
      return `answer from ${sdp.includes('o=agent') ? 'the agent session' : sdp}`;
    },
  } as unknown as CallMedia;
  const relay = (deadlineMs = 60_000, content = HOLD) =>
    relayReinvite({ stack, caller, agent, media, log: createLogger('silent') }, { method: 'INVITE', content } as SipRequest, 'caller', deadlineMs);
  const respond = (status: number, content?: string) => agentResponds({ status, headers: {}, content } as unknown as SipResponse);
  return { replies, answers, acks, reanswered, relay, respond, agentOffered: () => offered };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe(relayReinvite.name, () => {
  it('says 100 at once and relays the agent’s answer', async () => {
    const call = bridged();
    const done = call.relay();
    await tick();
    expect(call.replies).toEqual([100]);
    call.respond(200, 'agent holds');
    await done;
    expect(call.acks).toEqual([200]);
    expect(call.answers).toEqual(['answer from agent holds']);
  });

  it('passes glare (491) back, so the sender retries', async () => {
    const call = bridged();
    const done = call.relay();
    await tick();
    call.respond(491);
    await done;
    expect(call.replies).toEqual([100, 491]);
    expect(call.answers).toEqual([]);
  });

  it('answers with the agent’s current session, recvonly to a hold, when the agent refuses or never answers; a late 2xx is still ACKed', async () => {
    const refused = bridged();
    const first = refused.relay();
    await tick();
    refused.respond(501);
    await first;
    expect(refused.answers).toEqual(['answer from the agent session']);
    expect(refused.reanswered[0]).toMatch(/a=recvonly/);
    expect(refused.reanswered[0]).not.toMatch(/a=sendrecv/);

    const silent = bridged();
    await silent.relay(20);
    expect(silent.answers).toEqual(['answer from the agent session']);
    silent.respond(200, 'late answer');
    await tick();
    expect(silent.acks).toEqual([200]);
    expect(silent.answers).toHaveLength(1);
    expect(silent.reanswered.at(-1)).toBe('late answer');
  });
});

describe('a re-INVITE whose media cannot be carried', () => {
  it('is declined with 488 and never reaches the other side (T.38 fax alone)', async () => {
    const call = bridged();
    await call.relay(60_000, HOLD.replace(/m=audio.*\r\na=sendonly\r\n/, 'm=image 4000 udptl t38\r\n'));
    expect(call.replies).toEqual([488]);
    expect(call.agentOffered()).toBe(false);
  });
});
