import { describe, expect, it } from 'vitest';
import type { Queue } from '../pbx/queues.schemas.js';
import type { InviteContext } from '../sip/invite-admission.js';
import type { SipRequest } from '../sip/sip-types.js';
import { buildCallRecord, type CallFacts, callDisposition } from './call-record-builder.js';

const at = (s: number) => new Date(Date.UTC(2026, 11, 4, 10, 0, s));

const ctx = {
  request: {
    method: 'INVITE',
    uri: 'sip:+74951234567@127.0.0.1',
    headers: { 'call-id': 'abc@carrier' },
    content: 'v=0\r\nc=IN IP4 127.0.0.9\r\nm=audio 40000 RTP/AVP 0\r\n',
  } as unknown as SipRequest,
  remote: { protocol: 'UDP', address: '127.0.0.9', port: 5060 },
  trunk: null,
  trackingNumber: '+74951234567',
  route: { accountId: 'acc', poolId: null, sourceId: 'src-1', numberId: 'num-1', dialplan: 'sales' },
  caller: '+79161234567',
  callerName: undefined,
} as unknown as InviteContext;

const facts = (over: Partial<CallFacts> = {}): CallFacts => ({
  callId: 'call-1',
  ctx,
  plan: { name: 'sales', record: true, steps: [] } as unknown as CallFacts['plan'],
  startedAt: at(0),
  answeredAt: undefined,
  answeredBy: undefined,
  answeredTarget: undefined,
  endedBy: 'caller',
  finalStatus: 487,
  digits: '',
  voicemail: false,
  lastForward: undefined,
  attribution: undefined,
  attributorConfigured: true,
  spamReason: undefined,
  queueStay: undefined,
  ...over,
});

const queue = { name: 'support', serviceLevelSeconds: 20 } as Queue;

describe('callDisposition', () => {
  it('answered wins, then voicemail, then how the last forward ended, then who hung up', () => {
    expect(callDisposition({ answeredAt: at(5), voicemail: true, lastForward: 'busy', endedBy: 'caller' })).toBe('answered');
    expect(callDisposition({ answeredAt: undefined, voicemail: true, lastForward: 'busy', endedBy: 'system' })).toBe('voicemail');
    expect(callDisposition({ answeredAt: undefined, voicemail: false, lastForward: 'busy', endedBy: 'caller' })).toBe('busy');
    expect(callDisposition({ answeredAt: undefined, voicemail: false, lastForward: 'no-answer', endedBy: 'system' })).toBe('no-answer');
    expect(callDisposition({ answeredAt: undefined, voicemail: false, lastForward: undefined, endedBy: 'caller' })).toBe('cancelled');
    expect(callDisposition({ answeredAt: undefined, voicemail: false, lastForward: undefined, endedBy: 'system' })).toBe('failed');
  });
});

describe('buildCallRecord', () => {
  it('an answered call: talk from the answer, ring until it, 200 as its final status, recording pending', () => {
    const r = buildCallRecord(facts({ answeredAt: at(7), answeredBy: 'sip:a@127.0.0.2', answeredTarget: 'extension:101', endedBy: 'callee' }), at(67));
    expect(r).toMatchObject({
      disposition: 'answered',
      talkSeconds: 60,
      ringSeconds: 7,
      finalSipStatus: 200,
      answeredBy: 'sip:a@127.0.0.2',
      answeredTarget: 'extension:101',
      hangupBy: 'callee',
      recordingStatus: 'pending',
      confidence: 'static',
      sourceId: 'src-1',
      callerMedia: { ip: '127.0.0.9', port: 40000 },
    });
  });

  it('a cancelled call: no talk, ring until the end, its final status kept, nothing to record', () => {
    const r = buildCallRecord(facts(), at(12));
    expect(r).toMatchObject({ disposition: 'cancelled', talkSeconds: 0, ringSeconds: 12, finalSipStatus: 487, recordingStatus: 'none', ivrDigits: null });
  });

  it('says whether attribution was late or is not set up', () => {
    expect(buildCallRecord(facts(), at(1)).attribution.reason).toMatch(/unavailable/);
    expect(buildCallRecord(facts({ attributorConfigured: false }), at(1)).attribution.reason).toMatch(/not configured/);
  });

  it('queue columns: within the service level when answered in time; a caller still waiting at the end abandoned', () => {
    const answered = buildCallRecord(facts({ queueStay: { queue, joinedAt: at(2), leftAt: at(17), outcome: 'answered' } }), at(60));
    expect(answered).toMatchObject({ queueName: 'support', queueWaitSeconds: 15, queueOutcome: 'answered', queueWithinServiceLevel: true });
    const abandoned = buildCallRecord(facts({ queueStay: { queue, joinedAt: at(2) } }), at(40));
    expect(abandoned).toMatchObject({ queueWaitSeconds: 38, queueOutcome: 'abandoned', queueWithinServiceLevel: false });
    const noAgents = buildCallRecord(facts({ queueStay: { queue, joinedAt: at(2), leftAt: at(3), outcome: 'no-agents' } }), at(4));
    expect(noAgents.queueWithinServiceLevel).toBeNull();
    expect(buildCallRecord(facts(), at(4)).queueName).toBeUndefined();
  });
});
