import { describe, expect, it } from 'vitest';
import { OutboundSide, viewOf } from './outbound.schemas.js';

describe('OutboundSide', () => {
  it('reads the API.md spelling (gateway "host:port", callerIdPolicy, fixedCallerId) as host, port, callerId, fixedNumber', () => {
    const side = OutboundSide.parse({ gateway: 'gw.example:5080', transport: 'udp', callerIdPolicy: 'fixed', fixedCallerId: '+74951234567' });
    expect(side).toMatchObject({ host: 'gw.example', port: 5080, callerId: 'fixed', fixedNumber: '+74951234567' });
    expect(OutboundSide.parse({ gateway: '127.0.0.9' })).toMatchObject({ host: '127.0.0.9', port: 5060, callerId: 'caller' });
    expect(viewOf(side)).toMatchObject({ gateway: 'gw.example:5080', callerIdPolicy: 'fixed', fixedCallerId: '+74951234567', host: 'gw.example' });
  });

  it('names the field a bad value is in, in either spelling', () => {
    const bad = OutboundSide.safeParse({ gateway: 'bad host!:5060' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['host']);
    const fixed = OutboundSide.safeParse({ gateway: 'gw.example', callerIdPolicy: 'fixed' });
    expect(fixed.error?.issues[0]?.path).toEqual(['fixedNumber']);
    expect(OutboundSide.safeParse({ host: 'gw.example', gateway: 'other.example' }).success).toBe(false);
  });
});
