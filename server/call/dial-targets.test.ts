import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { createLogger } from '../logger.js';
import type { InviteContext } from '../sip/invite-admission.js';
import type { SipRequest } from '../sip/sip-types.js';
import type { OutboundSide } from '../trunks/outbound.schemas.js';
import { createDialTargets, type DialTargetDeps } from './dial-targets.js';

const ACCOUNT = 'acc-1';
const side = { host: '127.0.0.7', port: 5070, transport: 'udp', callerId: 'caller', identity: [] } as unknown as OutboundSide;

function targets(over: Partial<DialTargetDeps> = {}) {
  return createDialTargets({
    registrar: { contactsOf: async (_account, ext) => (ext === '101' ? [{ uri: 'sip:101@127.0.0.2:5080' }, { uri: 'sip:101@127.0.0.3:5080' }] : []) },
    groups: { plan: async (_account, name) => (name === 'sales' ? ({ members: [] } as never) : undefined) },
    outboundOf: async () => side,
    defaultCountry: 'RU',
    log: createLogger('silent'),
    ...over,
  });
}

const call = (over: Partial<InviteContext> = {}) =>
  ({
    request: { headers: { 'call-id': 'c1' } },
    route: { accountId: ACCOUNT },
    caller: '+79161234567',
    trackingNumber: '+74951234567',
    ...over,
  }) as unknown as InviteContext;

const refer = (uri: string) => ({ headers: { 'refer-to': { uri } } }) as unknown as SipRequest;

describe('dial targets', () => {
  it('a SIP URI rings itself, an extension its registered phones, a number the outbound trunk, anything else nobody', async () => {
    const t = targets();
    expect(await t.resolve(call(), 'sip:agent@127.0.0.2:5080')).toEqual(['sip:agent@127.0.0.2:5080']);
    expect(await t.resolve(call(), 'extension:101')).toEqual([{ uri: 'sip:101@127.0.0.2:5080' }, { uri: 'sip:101@127.0.0.3:5080' }]);
    expect(await t.resolve(call(), 'extension:102')).toEqual([]);
    const [out] = await t.resolve(call(), 'tel:+74997654321');
    expect(out).toMatchObject({ uri: 'sip:+74997654321@127.0.0.7:5070', fromUser: '+79161234567' });
    expect(await t.resolve(call(), 'group:sales')).toEqual([]);
  });

  it("a phone's outbound call shows the account's number, and without an outbound trunk a number rings nobody", async () => {
    const fromPhone = call({ caller: '101', pbx: { direction: 'outbound', extensionId: 'e1', callee: '+74997654321' } });
    const [out] = await targets().resolve(fromPhone, 'tel:+74997654321');
    expect(out).toMatchObject({ fromUser: '+74951234567' });
    expect(await targets({ outboundOf: async () => undefined }).resolve(call(), 'tel:+74997654321')).toEqual([]);
  });

  it('a transfer may name an extension with a phone, a ring group or a callable number, nothing else', async () => {
    const t = targets();
    expect(await t.transferTarget(ACCOUNT, refer('sip:101@127.0.0.1'))).toBe('extension:101');
    expect(await t.transferTarget(ACCOUNT, refer('sip:sales@127.0.0.1'))).toBe('group:sales');
    expect(await t.transferTarget(ACCOUNT, refer('sip:84997654321@127.0.0.1'))).toBe('tel:+74997654321');
    for (const uri of ['sip:102@127.0.0.1', 'sip:stranger@10.0.0.1', 'sip:127.0.0.1']) {
      expect(await t.transferTarget(ACCOUNT, refer(uri))).toBeInstanceOf(AppError);
    }
    // Without an outbound trunk a number is not callable either.
    expect(await targets({ outboundOf: async () => undefined }).transferTarget(ACCOUNT, refer('sip:84997654321@127.0.0.1'))).toBeInstanceOf(AppError);
  });
});
