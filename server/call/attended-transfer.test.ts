import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import type { AgentLeg } from '../sip/agent-leg.js';
import type { SipRequest } from '../sip/sip-types.js';
import { consultationFor, type ReplacesDialog, replacesOf, type TransferringCall } from './attended-transfer.js';

const refer = (referTo: string) =>
  ({ method: 'REFER', uri: 'sip:b2bua@127.0.0.1', headers: { 'refer-to': { uri: referTo, params: {} } } }) as unknown as SipRequest;

describe(replacesOf.name, () => {
  it('reads the Call-ID and both tags of the dialog a Refer-To replaces', () => {
    const replaces = encodeURIComponent('abc@10.0.0.1;to-tag=ours;from-tag=theirs');
    expect(replacesOf(refer(`sip:302@calltrack?Replaces=${replaces}`))).toEqual({ callId: 'abc@10.0.0.1', toTag: 'ours', fromTag: 'theirs' });
  });

  it('takes the tags in any order, with early-only beside them', () => {
    const replaces = encodeURIComponent('c1;from-tag=f;early-only;to-tag=t');
    expect(replacesOf(refer(`sip:127.0.0.1:5060?Replaces=${replaces}`))).toEqual({ callId: 'c1', toTag: 't', fromTag: 'f' });
  });

  it('is undefined for a blind transfer and an error for a Replaces without tags', () => {
    expect(replacesOf(refer('sip:302@calltrack'))).toBeUndefined();
    expect(replacesOf(refer('sip:302@calltrack?Replaces=only-a-call-id'))).toBeInstanceOf(AppError);
  });
});

describe(consultationFor.name, () => {
  const dialog: ReplacesDialog = { callId: 'consult', toTag: 'our-tag', fromTag: 'phone-tag' };
  const answeredLeg = { state: 'answered' } as AgentLeg;
  const call = (
    o: Partial<TransferringCall> & { caller?: string; accountId?: string; pbx?: boolean; sipCallId?: string },
  ): TransferringCall & { sipCallId: string } => ({
    sipCallId: o.sipCallId ?? 'consult',
    ended: o.ended ?? false,
    ctx: { route: { accountId: o.accountId ?? 'acc-1' }, caller: o.caller ?? '301', ...(o.pbx === false ? {} : { pbx: { direction: 'internal' } }) },
    answeredTarget: o.answeredTarget ?? 'extension:302',
    bridgedLeg: 'bridgedLeg' in o ? o.bridgedLeg : answeredLeg,
    ownsCallerDialog: o.ownsCallerDialog ?? ((d) => d.toTag === 'our-tag' && d.fromTag === 'phone-tag'),
  });
  const transferor = call({ sipCallId: 'tracked', caller: '+79161234567', pbx: false, answeredTarget: 'extension:301' });
  const find = (calls: ReturnType<typeof call>[]) => (sipCallId: string) => calls.find((c) => c.sipCallId === sipCallId);

  it('finds the answered call the transferring agent’s own extension placed', () => {
    const consult = call({});
    expect(consultationFor(transferor, dialog, find([transferor, consult]))).toBe(consult);
  });

  it('refuses unknown dialogs, wrong tags, ended calls and calls not placed by a phone', () => {
    expect(consultationFor(transferor, dialog, find([transferor]))).toBeInstanceOf(AppError);
    expect(consultationFor(transferor, { ...dialog, toTag: 'guessed' }, find([transferor, call({})]))).toBeInstanceOf(AppError);
    expect(consultationFor(transferor, dialog, find([transferor, call({ ended: true })]))).toBeInstanceOf(AppError);
    expect(consultationFor(transferor, dialog, find([transferor, call({ pbx: false })]))).toBeInstanceOf(AppError);
  });

  it('refuses another extension’s call and another account’s (no open relay)', () => {
    expect(consultationFor(transferor, dialog, find([transferor, call({ caller: '303' })]))).toBeInstanceOf(AppError);
    expect(consultationFor(transferor, dialog, find([transferor, call({ accountId: 'acc-2' })]))).toBeInstanceOf(AppError);
  });

  it('refuses a transferor that is no extension, and a consultation nobody answered yet', () => {
    const byUri = call({ sipCallId: 'tracked', pbx: false, answeredTarget: 'sip:agent@192.0.2.1' });
    expect(consultationFor(byUri, dialog, find([byUri, call({})]))).toBeInstanceOf(AppError);
    expect(consultationFor(transferor, dialog, find([transferor, call({ bridgedLeg: undefined })]))).toBeInstanceOf(AppError);
  });
});
