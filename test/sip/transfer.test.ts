// Blind transfer with REFER from the agent who has the call (SIPp), through rtpengine: the
// colleague's registered phone rings and answers, the transferor hears 100 then 200 in NOTIFYs and
// is hung up, the caller talks on and the record names the new agent. A Refer-To that is not an
// extension, a group or a callable number is refused with 403 and the call stays as it was.
// Attended transfer (REFER with Replaces): the agent's desk phone (raw SIP over UDP) holds the
// caller, consults a colleague with a call of its own and hands the caller over; the colleague's
// SIPp is re-INVITEd into the caller's media session (its echo of the caller's tone is in the
// call's recording) and the caller is taken off hold. Replaces naming an unknown dialog or another
// extension's call is refused and changes nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { toneSeconds } from '../helpers/goertzel.js';
import { makeToneFile, registerPhone, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { type PhoneDialog, phoneSdp, startUdpPhone, type UdpPhone } from '../helpers/udp-phone.js';

const CALLER_IP = '127.0.25.1';
const AGENT_IP = '127.0.25.2';
const COLLEAGUE_IP = '127.0.25.3';
const NUMBER = '+74957660001';
/** Rings extension 501, whose desk phone is the raw-SIP phone below. */
const ATTENDED_NUMBER = '+74957660002';
const AGENT_PHONE_IP = '127.0.25.4';
const OTHER_PHONE_IP = '127.0.25.5';
interface Extension {
  sipUsername: string;
  sipPassword: string;
}
let agentExtension: Extension;
let otherExtension: Extension;
let agentPhone: UdpPhone;
let otherPhone: UdpPhone;
let toneDir: string;
let h: Harness;
let server: CallServer;
let agentPort: number;
let colleaguePort: number;
let colleagueUser: string;
let tone: string;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  colleaguePort = await freePort(COLLEAGUE_IP);
  server = await startCallServer(h, {
    // No OPTIONS pings to the colleague's SIPp while the file runs (about 30 s): it would fail on one.
    keepaliveMs: 3_600_000,
    dialplans: {
      desk: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] },
      attended: { record: true, steps: [{ forward: { targets: ['extension:501'], ringSeconds: 5 } }] },
    },
  });
  const { trunkId } = await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'desk' });
  const added = await server.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: ATTENDED_NUMBER, trunkId, dialplan: 'attended' },
  });
  expect(added.statusCode, added.body).toBe(201);
  await server.routing.refresh();
  const colleague = (
    await server.app.inject({ method: 'POST', url: '/v1/extensions', headers: h.adminHeaders, payload: { extension: '502', name: 'Colleague' } })
  ).json();
  colleagueUser = colleague.sipUsername;
  const registered = await registerPhone({
    ip: COLLEAGUE_IP,
    target: `127.0.0.1:${server.sipPort}`,
    username: colleague.sipUsername,
    password: colleague.sipPassword,
    contactPort: colleaguePort,
  });
  expect(registered.code, registered.errors).toBe(0);
  toneDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tone-'));
  tone = makeToneFile(toneDir, 1000, 1);

  const extension = async (number: string): Promise<Extension> => {
    const res = await server.app.inject({
      method: 'POST',
      url: '/v1/extensions',
      headers: h.adminHeaders,
      payload: { extension: number, name: `Agent ${number}` },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  };
  agentExtension = await extension('501');
  otherExtension = await extension('503');
  const agentPhonePort = await freePort(AGENT_PHONE_IP);
  const agentRegistered = await registerPhone({
    ip: AGENT_PHONE_IP,
    target: `127.0.0.1:${server.sipPort}`,
    username: agentExtension.sipUsername,
    password: agentExtension.sipPassword,
    contactPort: agentPhonePort,
  });
  expect(agentRegistered.code, agentRegistered.errors).toBe(0);
  agentPhone = await startUdpPhone(AGENT_PHONE_IP, agentPhonePort, server.sipPort);
  otherPhone = await startUdpPhone(OTHER_PHONE_IP, await freePort(OTHER_PHONE_IP), server.sipPort);
}, 60_000);
afterAll(async () => {
  agentPhone?.close();
  otherPhone?.close();
  await server?.stop();
  await h?.close();
});

const callIn = (talkMs: number) =>
  runSipp({
    scenario: scenarioPath('uac-tone-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: NUMBER.slice(1),
    vars: { TONE: tone, TALK_MS: String(talkMs) },
  });

describe('blind transfer (REFER)', () => {
  it('moves the caller to the colleague’s phone; the transferor gets NOTIFYs and is hung up', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-answer-then-refer.xml'), ip: AGENT_IP, port: agentPort, vars: { TARGET: '502' } });
    const colleague = await startSipp({ scenario: 'uas', ip: COLLEAGUE_IP, port: colleaguePort, rtpEcho: true });
    const caller = await callIn(4000);
    expect(caller.code, caller.errors).toBe(0);
    const agentResult = await agent.done;
    expect(agentResult.code, agentResult.errors).toBe(0);
    const colleagueResult = await colleague.done;
    expect(colleagueResult.code, colleagueResult.errors).toBe(0);
    const record = await server.waitForCall((r) => r.trackingNumber === NUMBER);
    expect(record).toMatchObject({
      disposition: 'answered',
      answeredTarget: 'extension:502',
      answeredBy: `sip:${colleagueUser}@${COLLEAGUE_IP}:${colleaguePort}`,
      hangupBy: 'caller',
    });
    // Talk time runs from the first answer, not from the transfer.
    expect(record.talkSeconds).toBeGreaterThanOrEqual(3);
  });

  it('refuses a Refer-To that is no extension, group or callable number, and keeps the call', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-answer-refer-refused.xml'), ip: AGENT_IP, port: agentPort, vars: { TARGET: 'evil' } });
    const caller = await callIn(1500);
    expect(caller.code, caller.errors).toBe(0);
    const agentResult = await agent.done;
    expect(agentResult.code, agentResult.errors).toBe(0);
    await expect.poll(() => server.ended.filter((r) => r.trackingNumber === NUMBER).length).toBe(2);
    // The agent kept the call; the caller hung up.
    expect(server.ended.filter((r) => r.trackingNumber === NUMBER).at(-1)).toMatchObject({
      disposition: 'answered',
      answeredBy: `sip:agent@${AGENT_IP}:${agentPort}`,
      hangupBy: 'caller',
    });
  });
});

/** The Refer-To of an attended transfer naming `consultation` as the transferor's phone sees it (RFC 3891). */
const referToReplacing = (dialog: Pick<PhoneDialog, 'callId' | 'remoteTag' | 'localTag'>) =>
  `Refer-To: <sip:502@127.0.0.1?Replaces=${encodeURIComponent(`${dialog.callId};to-tag=${dialog.remoteTag};from-tag=${dialog.localTag}`)}>`;
const holdSdp = () => ({ type: 'application/sdp', text: phoneSdp(AGENT_PHONE_IP, agentPhone.mediaPort, 'sendonly') });
const credentialsOf = (extension: Extension) => ({ username: extension.sipUsername, password: extension.sipPassword });

/**
 * The start of every attended transfer: a tracked call rings the agent's phone, which answers, puts the
 * caller on hold and calls the colleague (502), who answers and will be re-INVITEd into the call.
 */
async function consultColleague(toneFile: string, talkMs: number) {
  const colleague = await startSipp({
    scenario: scenarioPath('uas-answer-expect-reinvite-then-bye.xml'),
    ip: COLLEAGUE_IP,
    port: colleaguePort,
    rtpEcho: true,
  });
  const caller = await startSipp({
    scenario: scenarioPath('uac-tone-expect-hold-resume-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: ATTENDED_NUMBER.slice(1),
    vars: { TONE: toneFile, TALK_MS: String(talkMs) },
  });
  const call = await agentPhone.answered();
  expect(await agentPhone.request(call, 'INVITE', [], holdSdp())).toMatch(/^SIP\/2\.0 200/);
  const consultation = await agentPhone.call('502', credentialsOf(agentExtension));
  return { colleague, caller, call, consultation };
}

describe('attended transfer (REFER with Replaces)', () => {
  it('hands the held caller to the colleague the agent consulted; both of the agent’s calls end, the recording goes on', async () => {
    const { colleague, caller, call, consultation } = await consultColleague(makeToneFile(toneDir, 1000, 4), 5000);

    expect(await agentPhone.request(call, 'REFER', [referToReplacing(consultation), `Referred-By: <${call.local}>`])).toMatch(/^SIP\/2\.0 202/);
    const notified = (status: string) => (r: { method: string; callId: string; body: string }) =>
      r.method === 'NOTIFY' && r.callId === call.callId && r.body.startsWith(`SIP/2.0 ${status}`);
    await agentPhone.waitFor(notified('100'), 'NOTIFY 100');
    const final = await agentPhone.waitFor(notified('200'), 'NOTIFY 200');
    expect(final.text).toMatch(/^Subscription-State:\s*terminated/im);
    expect(final.text).toMatch(/^Content-Type:\s*message\/sipfrag/im);
    // The agent is hung up in both dialogs: the call they transferred and their consultation.
    await agentPhone.waitFor((r) => r.method === 'BYE' && r.callId === call.callId, 'BYE for the transferred call');
    await agentPhone.waitFor((r) => r.method === 'BYE' && r.callId === consultation.callId, 'BYE for the consultation');

    const callerResult = await caller.done;
    expect(callerResult.code, callerResult.errors + callerResult.stderr).toBe(0);
    const colleagueResult = await colleague.done;
    expect(colleagueResult.code, colleagueResult.errors).toBe(0);
    const record = await server.waitForCall((r) => r.trackingNumber === ATTENDED_NUMBER);
    expect(record).toMatchObject({
      disposition: 'answered',
      answeredTarget: 'extension:502',
      answeredBy: `sip:${colleagueUser}@${COLLEAGUE_IP}:${colleaguePort}`,
      hangupBy: 'caller',
      recordingStatus: 'pending',
    });
    // The consultation is an internal call of its own, ended by us when the transfer completed.
    expect(server.ended.find((r) => r.sipCallId === consultation.callId)).toMatchObject({ direction: 'internal', callee: '502', disposition: 'answered' });
    // The colleague echoes what it hears: the caller's tone comes back on the agent's channel of the
    // call's own recording, so the colleague's media runs through the call's rtpengine session.
    expect(await server.waitForRecording(record.id, 20_000)).toBe('ready');
    const channels = await server.recordedChannels(record.id);
    expect(toneSeconds(channels[0]!, 8000, 1000, [1000])).toBeGreaterThanOrEqual(2);
    expect(toneSeconds(channels[1]!, 8000, 1000, [1000])).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('completes when the agent’s phone hangs up the held call as soon as the REFER is accepted', async () => {
    const { colleague, caller, call, consultation } = await consultColleague(tone, 2000);
    const notifies = () => agentPhone.received.filter((r) => r.method === 'NOTIFY' && r.callId === call.callId).map((r) => r.body.trim());
    expect(await agentPhone.request(call, 'REFER', [referToReplacing(consultation)])).toMatch(/^SIP\/2\.0 202/);
    expect(await agentPhone.request(call, 'BYE')).toMatch(/^SIP\/2\.0 200/);
    // Whatever the transfer had reported before the agent's BYE was answered; nothing may follow it.
    const notifiedBeforeBye = notifies().length;
    await agentPhone.waitFor((r) => r.method === 'BYE' && r.callId === consultation.callId, 'BYE for the consultation');
    const callerResult = await caller.done;
    expect(callerResult.code, callerResult.errors + callerResult.stderr).toBe(0);
    const colleagueResult = await colleague.done;
    expect(colleagueResult.code, colleagueResult.errors).toBe(0);
    // Our legs' Call-IDs are the call's id with a leg number.
    const record = await server.waitForCall((r) => r.id === call.callId.replace(/-\d+$/, ''));
    expect(record).toMatchObject({ answeredTarget: 'extension:502', hangupBy: 'caller' });
    // "100 Trying" went with the 202; no NOTIFY went to the dialog once the agent had ended it.
    expect(notifies()[0]).toBe('SIP/2.0 100 Trying');
    expect(notifies().slice(notifiedBeforeBye)).toEqual([]);
  }, 60_000);

  it('refuses Replaces naming an unknown dialog or another extension’s call, and keeps the call', async () => {
    const caller = await startSipp({
      scenario: scenarioPath('uac-tone-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: ATTENDED_NUMBER.slice(1),
      vars: { TONE: tone, TALK_MS: '4000' },
    });
    const call = await agentPhone.answered();
    const unknown = { callId: `nobody-${Date.now()}@${AGENT_PHONE_IP}`, remoteTag: 'x1', localTag: 'y2' };
    expect(await agentPhone.request(call, 'REFER', [referToReplacing(unknown)])).toMatch(/^SIP\/2\.0 403/);
    // Extension 503 calls 501 (the agent's phone answers it): a live call, but not one 501 placed.
    const othersCall = await otherPhone.call('501', credentialsOf(otherExtension));
    expect(await agentPhone.request(call, 'REFER', [referToReplacing(othersCall)])).toMatch(/^SIP\/2\.0 403/);
    // A Replaces that cannot be read is a bad request.
    expect(await agentPhone.request(call, 'REFER', ['Refer-To: <sip:502@127.0.0.1?Replaces=only-a-call-id>'])).toMatch(/^SIP\/2\.0 400/);
    expect(await otherPhone.request(othersCall, 'BYE')).toMatch(/^SIP\/2\.0 200/);

    const callerResult = await caller.done;
    expect(callerResult.code, callerResult.errors + callerResult.stderr).toBe(0);
    const record = await server.waitForCall((r) => r.trackingNumber === ATTENDED_NUMBER && r.answeredTarget === 'extension:501');
    expect(record).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
    // Nothing moved: no NOTIFY, and the agent was hung up only when the caller left.
    expect(agentPhone.received.filter((r) => r.method === 'NOTIFY' && r.callId === call.callId)).toHaveLength(0);
  }, 60_000);
});
