import { describe, expect, it } from 'vitest';
import type { SipRemote, SipRequest } from '../sip/sip-types.js';
import { pathOf } from './registrar.js';

const register = (path?: Array<{ uri: string; params: Record<string, string | null> }>): SipRequest => ({
  method: 'REGISTER',
  uri: 'sip:127.0.15.3:5060',
  headers: {
    via: [],
    from: { uri: 'sip:201-abc@127.0.15.3', params: { tag: 'a' } },
    to: { uri: 'sip:201-abc@127.0.15.3', params: {} },
    'call-id': 'r1',
    cseq: { seq: 2, method: 'REGISTER' },
    contact: [{ uri: 'sip:201-abc@10.0.0.7:5060', params: {} }],
    ...(path ? { path } : {}),
  },
});
const edgeEntry = { uri: 'sip:127.0.15.3:5060;lr', params: {} };
const phone: SipRemote = { protocol: 'UDP', address: '203.0.113.7', port: 40000 };

describe(pathOf.name, () => {
  it("keeps the edge's own Path entry when the trusted edge relayed the REGISTER, and nothing the phone wrote below it", () => {
    const phonesOwn = { uri: 'sip:198.51.100.9;lr', params: {} };
    expect(pathOf(register([edgeEntry, phonesOwn]), { ...phone, relayedBy: '127.0.15.3' })).toEqual([edgeEntry]);
  });

  it('follows no Path on a REGISTER that came straight from the phone (single-process mode rings phones directly)', () => {
    expect(pathOf(register([edgeEntry]), phone)).toBeUndefined();
    expect(pathOf(register(), { ...phone, relayedBy: '127.0.15.3' })).toBeUndefined();
  });
});
