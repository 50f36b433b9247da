import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AgentLeg } from './agent-leg.js';
import { CallerDialog } from './caller-dialog.js';
import { reasonPhrase } from './reason-phrases.js';
import type { SipStack } from './sip-stack.js';
import type { SipRequest, SipResponse } from './sip-types.js';

/** A SipStack that records what the dialog layer sends instead of putting it on the wire. */
function recordingStack() {
  const sent: Array<SipRequest | SipResponse> = [];
  const resent: SipResponse[] = [];
  const stack: SipStack = {
    host: '127.0.0.1',
    port: 5060,
    send: (m) => void sent.push(m),
    reply(request, status, extra) {
      const response: SipResponse = {
        status,
        reason: reasonPhrase(status),
        headers: { ...request.headers, ...(extra?.headers ?? {}) },
        ...(extra?.content ? { content: extra.content } : {}),
      };
      sent.push(response);
      return response;
    },
    replyError(request, error) {
      return stack.reply(request, error.sipStatus ?? 500, { headers: error.sipHeaders ?? {} });
    },
    resend: (response) => void resent.push(response),
    ready: Promise.resolve(),
    wsPort: () => undefined,
    onFlowClosed: () => undefined,
    stop: async () => undefined,
  };
  return { stack, sent, resent };
}

const invite = (): SipRequest => ({
  method: 'INVITE',
  uri: 'sip:74951234567@127.0.0.1',
  headers: {
    via: [{ host: '127.0.0.5', port: 5060, params: { branch: 'z9hG4bK1' } }],
    from: { uri: 'sip:79161234567@127.0.0.5', params: { tag: 'caller' } },
    to: { uri: 'sip:74951234567@127.0.0.1', params: {} },
    'call-id': 'call-1',
    cseq: { seq: 7, method: 'INVITE' },
    contact: [{ uri: 'sip:79161234567@127.0.0.5:5060', params: {} }],
  },
  content: 'v=0',
});

type Sent = Array<SipRequest | SipResponse>;
const requests = (sent: Sent, method: string) => sent.filter((m): m is SipRequest => 'method' in m && m.method === method);
const responses = (sent: Sent) => sent.filter((m): m is SipResponse => 'status' in m);

/** The agent's 2xx to the leg's INVITE: its To tag and Contact, and any other headers given. */
const agentOk = (leg: AgentLeg, contact: string, headers: Record<string, unknown> = {}): SipResponse => ({
  status: 200,
  reason: 'OK',
  headers: {
    ...leg.invite.headers,
    to: { uri: leg.invite.headers.to.uri, params: { tag: 'agent' } },
    contact: [{ uri: contact, params: {} }],
    ...headers,
  },
});

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe(CallerDialog.name, () => {
  it('agrees the caller’s session timer in its 2xx, and refreshes every half interval when the refreshing is ours', () => {
    const { stack, sent } = recordingStack();
    const withTimer = { ...invite(), headers: { ...invite().headers, 'session-expires': '120;refresher=uas' } };
    let lost = 0;
    const d = new CallerDialog(
      stack,
      withTimer,
      () => undefined,
      () => lost++,
    );
    d.answer('v=0 answer');
    d.ack(7);
    expect(sent[0]).toMatchObject({ status: 200, headers: { 'session-expires': '120;refresher=uas', require: 'timer' } });
    const reinvites = () => requests(sent, 'INVITE');
    vi.advanceTimersByTime(59_999);
    expect(reinvites()).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(reinvites()).toHaveLength(1);
    expect(reinvites()[0]).toMatchObject({ content: 'v=0 answer', headers: { to: { params: { tag: 'caller' } } } });
    // No refresh outlives the call.
    d.stopTimers();
    vi.advanceTimersByTime(600_000);
    expect(reinvites()).toHaveLength(1);
    expect(lost).toBe(0);
  });

  it('leaves the refreshing to a caller that takes it, and ends the call when our refresh finds no dialog', () => {
    const sent: SipRequest[] = [];
    const { stack } = recordingStack();
    let lost = 0;
    const callerRefreshes = new CallerDialog(stack, { ...invite(), headers: { ...invite().headers, 'session-expires': '90;refresher=uac' } }, () => undefined);
    callerRefreshes.answer('v=0');
    const ours = new CallerDialog(
      {
        ...stack,
        send: (m, onResponse) => {
          sent.push(m as SipRequest);
          onResponse?.({ status: 481, reason: 'Call/Transaction Does Not Exist', headers: {} } as SipResponse);
        },
      },

      { ...invite(), headers: { ...invite().headers, 'session-expires': '90' } },
      () => undefined,
      () => lost++,
    );
    ours.answer('v=0');
    vi.advanceTimersByTime(45_000);
    expect(sent.filter((m) => m.method === 'INVITE')).toHaveLength(1);
    expect(lost).toBe(1);
    callerRefreshes.stopTimers();
    ours.stopTimers();
  });

  it('retransmits its 2xx with T1 doubling until the ACK arrives (npm sip does not)', () => {
    const { stack, resent } = recordingStack();
    const d = new CallerDialog(stack, invite(), () => undefined);
    d.answer('v=0 answer');
    vi.advanceTimersByTime(499);
    expect(resent).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(resent).toHaveLength(1); // +500 ms
    vi.advanceTimersByTime(1_000);
    expect(resent).toHaveLength(2); // +1.5 s
    vi.advanceTimersByTime(2_000);
    expect(resent).toHaveLength(3); // +3.5 s
    expect(resent[0]!.status).toBe(200);
    d.ack(7);
    vi.advanceTimersByTime(60_000);
    expect(resent).toHaveLength(3);
  });

  it('gives the dialog up when no ACK comes within 64*T1, and caps the interval at T2', () => {
    const { stack, resent } = recordingStack();
    const onAckTimeout = vi.fn();
    new CallerDialog(stack, invite(), onAckTimeout).answer('v=0');
    vi.advanceTimersByTime(31_999);
    expect(onAckTimeout).not.toHaveBeenCalled();
    // 0.5, 1.5, 3.5, 7.5, then every 4 s: 11.5 … 31.5 → 10 resends in 32 s.
    expect(resent).toHaveLength(10);
    vi.advanceTimersByTime(1);
    expect(onAckTimeout).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(10_000);
    expect(resent).toHaveLength(10);
  });

  it('keeps retransmitting the INVITE 2xx when an ACK for a re-INVITE arrives', () => {
    const { stack, resent } = recordingStack();
    const d = new CallerDialog(stack, invite(), () => undefined);
    d.answer('v=0');
    d.ack(8); // CSeq of some later re-INVITE, not of our first 2xx
    vi.advanceTimersByTime(500);
    expect(resent).toHaveLength(1);
  });

  it("puts its tag in To of provisional and final responses, and sends BYE to the caller's Contact", () => {
    const { stack, sent } = recordingStack();
    const d = new CallerDialog(stack, invite(), () => undefined);
    d.progress(180);
    d.answer('v=0');
    d.ack();
    d.bye();
    const [ringing, ok, bye] = sent as [SipResponse, SipResponse, SipRequest];
    expect(ringing.headers.to.params.tag).toBe(d.localTag);
    expect(ok.headers.to.params.tag).toBe(d.localTag);
    expect(bye).toMatchObject({ method: 'BYE', uri: 'sip:79161234567@127.0.0.5:5060' });
    expect(bye.headers.from.params.tag).toBe(d.localTag);
    expect(bye.headers.to.params.tag).toBe('caller');
  });
});

describe(AgentLeg.name, () => {
  it("ACKs a 2xx end to end with the INVITE CSeq, and a re-INVITE 2xx with that re-INVITE's CSeq", () => {
    const { stack, sent } = recordingStack();
    const leg = new AgentLeg(stack, 'sip:agent@127.0.0.2:5080', '79161234567', 'v=0', 69, 'leg-1');
    leg.send(() => undefined);
    const ok = agentOk(leg, 'sip:agent@127.0.0.2:5080;transport=udp');
    leg.ack(ok);
    leg.reinvite('v=0 hold', () => undefined);
    const reinvite = sent.at(-1) as SipRequest;
    leg.ack({ ...ok, headers: { ...ok.headers, cseq: reinvite.headers.cseq } });
    const acks = requests(sent, 'ACK');
    expect(acks.map((a) => a.headers.cseq.seq)).toEqual([leg.invite.headers.cseq.seq, reinvite.headers.cseq.seq]);
    expect(reinvite.headers.cseq.seq).toBeGreaterThan(leg.invite.headers.cseq.seq);
    expect(reinvite).toMatchObject({ method: 'INVITE', uri: 'sip:agent@127.0.0.2:5080;transport=udp' });
    expect(reinvite.headers.to.params.tag).toBe('agent');
    expect(acks.every((a) => a.uri === 'sip:agent@127.0.0.2:5080;transport=udp')).toBe(true);
  });

  it('cancels only while ringing and says BYE only once answered', () => {
    const { stack, sent } = recordingStack();
    const leg = new AgentLeg(stack, 'sip:agent@127.0.0.2', '7916', 'v=0', 70, 'leg-2');
    leg.bye();
    expect(sent).toHaveLength(0);
    leg.invite.headers.via.push({ host: '127.0.0.1', params: { branch: 'z9hG4bKleg' } }); // npm sip adds the Via when sending
    leg.cancel();
    leg.cancel();
    expect(requests(sent, 'CANCEL')).toHaveLength(1);
  });
});

describe('route set (RFC 3261 12.1): in-dialog requests go back through the edge', () => {
  const edge = [
    { uri: 'sip:127.0.15.1;lr;r2=on', params: {} },
    { uri: 'sip:127.0.15.2;lr', params: {} },
  ];

  it("echoes the INVITE's Record-Route in its 180/200 and sends BYE and re-INVITE with it as Route, in order", () => {
    const { stack, sent } = recordingStack();
    const d = new CallerDialog(stack, { ...invite(), headers: { ...invite().headers, 'record-route': edge } }, () => undefined);
    d.progress(180);
    d.answer('v=0');
    expect(responses(sent).map((r) => r.headers['record-route'])).toEqual([edge, edge]);
    d.reinvite('v=0 hold', () => undefined);
    d.bye();
    for (const request of [...requests(sent, 'INVITE'), ...requests(sent, 'BYE')]) {
      expect((request.headers.route as typeof edge).map((r) => r.uri)).toEqual(['sip:127.0.15.1;lr;r2=on', 'sip:127.0.15.2;lr']);
      expect(request.uri).toBe('sip:79161234567@127.0.0.5:5060');
    }
  });

  it('sends no Route when the INVITE had no Record-Route', () => {
    const { stack, sent } = recordingStack();
    const d = new CallerDialog(stack, invite(), () => undefined);
    d.answer('v=0');
    d.bye();
    expect(requests(sent, 'BYE')[0]!.headers.route).toBeUndefined();
  });

  it("takes the agent leg's route set from the 2xx's Record-Route reversed, for ACK, re-INVITE and BYE", () => {
    const { stack, sent } = recordingStack();
    const leg = new AgentLeg(stack, 'sip:agent@127.0.15.9', '79161234567', 'v=0', 70, 'leg-1');
    leg.send(() => undefined);
    const ok = agentOk(leg, 'sip:agent@127.0.15.9:5070', { 'record-route': edge });
    leg.ack(ok);
    leg.state = 'answered';
    leg.reinvite('v=0', () => undefined);
    leg.bye();
    const inDialog = [...requests(sent, 'ACK'), ...requests(sent, 'INVITE').slice(1), ...requests(sent, 'BYE')];
    expect(inDialog).toHaveLength(3);
    for (const request of inDialog) {
      expect((request.headers.route as typeof edge).map((r) => r.uri)).toEqual(['sip:127.0.15.2;lr', 'sip:127.0.15.1;lr;r2=on']);
    }
  });
});

describe('CallerDialog with reliable provisionals (RFC 3262)', () => {
  const requiring = (): SipRequest => ({ ...invite(), headers: { ...invite().headers, require: '100rel', supported: 'timer' } });
  const prack = (rseq: number | string, cseq = '7 INVITE'): SipRequest => ({
    method: 'PRACK',
    uri: 'sip:127.0.0.1:5060',
    headers: { ...invite().headers, cseq: { seq: 8, method: 'PRACK' }, rack: `${rseq} ${cseq}` },
  });

  it('sends each 18x with Require: 100rel and an RSeq, retransmits it until the PRACK, and holds the next one until then', async () => {
    const { stack, sent, resent } = recordingStack();
    const d = new CallerDialog(stack, requiring(), () => undefined);
    d.progress(183, 'v=0 early');
    d.progress(180);
    const first = responses(sent);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ status: 183, content: 'v=0 early', headers: { require: '100rel' } });
    const rseq = Number(first[0]!.headers.rseq);
    expect(rseq).toBeGreaterThan(0);
    vi.advanceTimersByTime(500 + 1000 + 2000);
    expect(resent).toHaveLength(3);
    // A PRACK for another response, or for another INVITE, is not this one's.
    expect(d.prack(prack(rseq + 1))).toBe(false);
    expect(d.prack(prack(rseq, '6 INVITE'))).toBe(false);
    expect(d.prack(prack(rseq))).toBe(true);
    expect(responses(sent)).toHaveLength(1); // released only after the PRACK's own answer
    await Promise.resolve();
    vi.advanceTimersByTime(10_000);
    // The 183 stopped; the 180 waited, goes now with the next RSeq, and is retransmitted in turn.
    expect(resent.filter((r) => r.status === 183)).toHaveLength(3);
    expect(resent.filter((r) => r.status === 180).length).toBeGreaterThan(0);
    expect(responses(sent)).toHaveLength(2);
    expect(responses(sent)[1]).toMatchObject({ status: 180, headers: { require: '100rel', rseq: String(rseq + 1) } });
    expect(d.prack(prack(rseq))).toBe(false);
  });

  it('holds the 2xx until the 18x that carried SDP is PRACKed, and sends no 18x after deciding to answer', async () => {
    const { stack, sent } = recordingStack();
    const d = new CallerDialog(stack, requiring(), () => undefined);
    d.progress(183, 'v=0 early');
    const rseq = Number(responses(sent)[0]!.headers.rseq);
    d.answer('v=0 answer');
    d.progress(180);
    expect(responses(sent).map((r) => r.status)).toEqual([183]);
    expect(d.finalSent).toBe(false);
    d.prack(prack(rseq));
    await Promise.resolve();
    expect(responses(sent).map((r) => r.status)).toEqual([183, 200]);
    expect(d.answered).toBe(true);
  });

  it('answers at once after an 18x without SDP, and gives up on a caller that never PRACKs', () => {
    const plain = recordingStack();
    const d = new CallerDialog(plain.stack, requiring(), () => undefined);
    d.progress(180);
    d.answer('v=0 answer');
    expect(responses(plain.sent).map((r) => r.status)).toEqual([180, 200]);

    const silent = recordingStack();
    let gone = 0;
    const s = new CallerDialog(silent.stack, requiring(), () => gone++);
    s.progress(183, 'v=0 early');
    vi.advanceTimersByTime(64 * 500);
    expect(gone).toBe(1);
    const retransmissions = silent.resent.length;
    vi.advanceTimersByTime(60_000);
    expect(silent.resent.length).toBe(retransmissions);
  });

  it('sends 18x unreliably when the caller only supports 100rel', () => {
    const { stack, sent } = recordingStack();
    const d = new CallerDialog(stack, { ...invite(), headers: { ...invite().headers, supported: '100rel' } }, () => undefined);
    d.progress(180);
    expect(responses(sent)[0]!.headers.rseq).toBeUndefined();
    expect(responses(sent)[0]!.headers.require).toBeUndefined();
  });
});

describe('CallerDialog 100 Trying', () => {
  it('sends 100 Trying only when nothing else answered within the delay', () => {
    const quick = recordingStack();
    const answeredQuickly = new CallerDialog(quick.stack, invite(), () => undefined);
    answeredQuickly.tryingUnlessAnswered(150);
    vi.advanceTimersByTime(20);
    answeredQuickly.progress(180);
    vi.advanceTimersByTime(1000);
    expect(quick.sent.map((m) => ('status' in m ? m.status : m.method))).toEqual([180]);

    const slow = recordingStack();
    const slowAgent = new CallerDialog(slow.stack, invite(), () => undefined);
    slowAgent.tryingUnlessAnswered(150);
    vi.advanceTimersByTime(149);
    expect(slow.sent).toHaveLength(0);
    vi.advanceTimersByTime(1);
    slowAgent.progress(180);
    expect(slow.sent.map((m) => ('status' in m ? m.status : m.method))).toEqual([100, 180]);
  });
});
