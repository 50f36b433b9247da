import { describe, expect, it } from 'vitest';
import { dtmfDigitOf } from './info-dtmf.js';
import type { SipRequest } from './sip-types.js';

const info = (type: string | undefined, content: string): SipRequest => ({
  method: 'INFO',
  uri: 'sip:127.0.0.1',
  headers: {
    via: [],
    from: { uri: 'sip:a@b', params: { tag: '1' } },
    to: { uri: 'sip:c@d', params: { tag: '2' } },
    'call-id': 'x',
    cseq: { seq: 2, method: 'INFO' },
    ...(type ? { 'content-type': type } : {}),
  },
  content,
});

describe(dtmfDigitOf.name, () => {
  it('reads application/dtmf-relay, its numeric * and #, and application/dtmf', () => {
    expect(dtmfDigitOf(info('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n'))).toBe('5');
    expect(dtmfDigitOf(info('Application/DTMF-Relay', 'signal= *\r\nduration=100'))).toBe('*');
    expect(dtmfDigitOf(info('application/dtmf-relay', 'Signal=11\r\nDuration=160'))).toBe('#');
    expect(dtmfDigitOf(info('application/dtmf-relay', 'Signal=d'))).toBe('D');
    expect(dtmfDigitOf(info('application/dtmf', '7\r\n'))).toBe('7');
  });

  it('finds no key in other INFOs or in nonsense', () => {
    expect(dtmfDigitOf(info(undefined, ''))).toBeUndefined();
    expect(dtmfDigitOf(info('application/media_control+xml', '<media_control/>'))).toBeUndefined();
    expect(dtmfDigitOf(info('application/dtmf-relay', 'Duration=160'))).toBeUndefined();
    expect(dtmfDigitOf(info('application/dtmf-relay', 'Signal=42'))).toBeUndefined();
    expect(dtmfDigitOf(info('application/dtmf', 'hello'))).toBeUndefined();
  });
});
