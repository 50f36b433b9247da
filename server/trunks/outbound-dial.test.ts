import { describe, expect, it } from 'vitest';
import { outboundDial } from './outbound-dial.js';
import { OutboundSide } from './outbound.schemas.js';

const side = (o: object) => OutboundSide.parse({ host: 'gw.example', ...o });
const ids = { caller: '+79160000001', tracking: '+74950000002' };

describe('outboundDial', () => {
  it('shows the caller, the tracking number or the company number as the policy says', () => {
    expect(outboundDial(side({}), '+79161234567', ids)).toMatchObject({ uri: 'sip:+79161234567@gw.example:5060', fromUser: ids.caller, headers: {} });
    expect(outboundDial(side({ callerId: 'tracking' }), '+79161234567', ids).fromUser).toBe(ids.tracking);
    expect(outboundDial(side({ callerId: 'fixed', fixedNumber: '+74951112233' }), '+79161234567', ids).fromUser).toBe('+74951112233');
  });

  it('adds the tech prefix, the transport, identity headers and credentials', () => {
    const dial = outboundDial(
      side({ port: 5080, transport: 'tcp', techPrefix: '99#', identity: ['pai', 'diversion'], username: 'u', password: 'p' }),
      '+79161234567',
      ids,
    );
    expect(dial).toEqual({
      uri: 'sip:99%2379161234567@gw.example:5080;transport=tcp',
      fromUser: ids.caller,
      headers: { 'P-Asserted-Identity': `<sip:${ids.caller}@gw.example>`, Diversion: `<sip:${ids.tracking}@gw.example>;reason=unconditional` },
      credentials: { username: 'u', password: 'p' },
    });
  });

  it('never puts an odd caller id into headers', () => {
    const dial = outboundDial(side({ identity: ['pai'] }), '+79161234567', { caller: 'evil>\r\nX-Injected: 1', tracking: ids.tracking });
    expect(dial.fromUser).toBe('anonymous');
    expect(dial.headers).toEqual({ 'P-Asserted-Identity': '<sip:anonymous@gw.example>' });
  });
});
