import { describe, expect, it } from 'vitest';
import { EDGE_SOURCE_HEADER, sourceOf } from './sip-stack.js';
import type { SipRequest } from './sip-types.js';

const request = (source?: string): SipRequest => ({
  method: 'INVITE',
  uri: 'sip:74951234567@127.0.15.10',
  headers: {
    via: [],
    from: { uri: 'sip:79161234567@127.0.15.50', params: { tag: 'a' } },
    to: { uri: 'sip:74951234567@127.0.15.10', params: {} },
    'call-id': 'c1',
    cseq: { seq: 1, method: 'INVITE' },
    ...(source ? { [EDGE_SOURCE_HEADER]: source } : {}),
  },
});
const edge = { protocol: 'UDP', address: '127.0.15.1', port: 5060 };

describe(sourceOf.name, () => {
  it("takes a trusted edge's word for where the request came from", () => {
    expect(sourceOf(request('127.0.15.50:5080'), edge, ['127.0.15.1'])).toEqual({
      protocol: 'UDP',
      address: '127.0.15.50',
      port: 5080,
      relayedBy: '127.0.15.1',
    });
  });

  it('ignores the header from anyone who is not the edge (a trunk could claim any address)', () => {
    const trunk = { protocol: 'UDP', address: '127.0.15.60', port: 5060 };
    expect(sourceOf(request('127.0.15.50:5080'), trunk, ['127.0.15.1'])).toBe(trunk);
  });

  it('keeps the edge as the source when its header is missing or malformed', () => {
    expect(sourceOf(request(), edge, ['127.0.15.1'])).toBe(edge);
    expect(sourceOf(request('not an address'), edge, ['127.0.15.1'])).toBe(edge);
  });
});
