import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { sipLib } from './sip-lib.js';
import type { SipMessage, SipRemote, SipRequest, SipResponse } from './sip-types.js';
import { createWsTransactions } from './ws-transactions.js';

const browser: SipRemote = { protocol: 'WS', address: '127.0.0.9', port: 40001 };

function setUp(open = true) {
  const sent: Array<{ flow: SipRemote; message: SipMessage }> = [];
  const requests: SipRequest[] = [];
  const transactions = createWsTransactions({
    transport: {
      protocol: 'WS',
      port: 5066,
      flowFor: (uri) => (open && uri.params.transport === 'ws' ? browser : undefined),
      learnContact: () => undefined,
      send: (flow, message) => {
        sent.push({ flow, message });
        return open;
      },
    },
    publicHost: '127.0.0.1',
    logger: pino({ level: 'silent' }),
    onRequest: (request) => void requests.push(request),
  });
  return { transactions, sent, requests };
}

const invite = (): SipRequest => ({
  method: 'INVITE',
  uri: 'sip:abc@127.0.0.9:40001;transport=ws',
  headers: {
    via: [],
    from: { uri: 'sip:79161234567@127.0.0.1', params: { tag: 'b2bua' } },
    to: { uri: 'sip:abc@127.0.0.9:40001;transport=ws', params: {} },
    'call-id': 'leg-1',
    cseq: { seq: 1, method: 'INVITE' },
  },
  content: 'v=0\r\n',
});
const answer = (request: SipRequest, status: number): SipResponse => {
  const response = sipLib.makeResponse(request, status, 'x');
  return { ...response, headers: { ...response.headers, to: { ...response.headers.to, params: { tag: 'phone' } } } };
};
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe(createWsTransactions.name, () => {
  it('sends to a WebSocket flow with a WS Via and matches its answers by branch, 2xx repeats included', () => {
    const { transactions, sent } = setUp();
    const got: number[] = [];
    const request = invite();
    expect(transactions.sendRequest(request, (r) => void got.push(r.status))).toBe(true);
    expect(request.headers.via[0]).toMatchObject({ protocol: 'WS', host: '127.0.0.1', port: 5066 });
    expect(String(request.headers.via[0]?.params.branch)).toMatch(/^z9hG4bK/);
    // From another flow, a response to our branch is not ours to take.
    transactions.receive(answer(request, 486), { ...browser, port: 40002 });
    transactions.receive(answer(request, 180), browser);
    transactions.receive(answer(request, 200), browser);
    transactions.receive(answer(request, 200), browser);
    expect(got).toEqual([180, 200, 200]);
    expect(sent).toHaveLength(1);
  });

  it('ACKs a refused INVITE itself, in the same transaction', () => {
    const { transactions, sent } = setUp();
    const request = invite();
    transactions.sendRequest(request, () => undefined);
    transactions.receive(answer(request, 486), browser);
    const ack = sent[1]?.message as SipRequest;
    expect(ack.method).toBe('ACK');
    expect(ack.headers.via[0]?.params.branch).toBe(request.headers.via[0]?.params.branch);
    expect(ack.headers.to.params.tag).toBe('phone');
  });

  it('fails what is pending on a flow that closes (503), and a target whose flow is gone (430)', async () => {
    const { transactions } = setUp();
    const got: number[] = [];
    transactions.sendRequest(invite(), (r) => void got.push(r.status));
    transactions.flowClosed(browser);
    expect(got).toEqual([503]);
    const closed = setUp(false);
    expect(closed.transactions.sendRequest(invite(), (r) => void got.push(r.status))).toBe(true);
    await settle();
    expect(got).toEqual([503, 430]);
    // Not a WebSocket target: left to UDP/TCP.
    expect(closed.transactions.sendRequest({ ...invite(), uri: 'sip:desk@127.0.0.8:5060' })).toBe(false);
  });

  it('answers a request over the flow it came on, absorbs the ACK of a refused INVITE, and passes the dialog ACK on', () => {
    const { transactions, sent, requests } = setUp();
    const incoming: SipRequest = {
      ...invite(),
      headers: { ...invite().headers, via: [{ protocol: 'WS', host: 'x.invalid', params: { branch: 'z9hG4bKin' } }] },
    };
    transactions.receive(incoming, browser);
    transactions.receive(incoming, browser);
    expect(requests).toHaveLength(1);
    expect(transactions.sendResponse(sipLib.makeResponse(incoming, 488, 'x'))).toBe(true);
    expect(sent.at(-1)?.flow).toEqual(browser);
    transactions.receive({ ...incoming, method: 'ACK', headers: { ...incoming.headers, cseq: { seq: 1, method: 'ACK' } } }, browser);
    expect(requests).toHaveLength(1);
    // Responses to UDP/TCP requests are not ours.
    expect(transactions.sendResponse(sipLib.makeResponse({ ...incoming, headers: { ...incoming.headers, 'call-id': 'other' } }, 200, 'x'))).toBe(false);
    transactions.stop();
  });
});
