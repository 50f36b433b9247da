// Calls as interconnects really write them, end to end through the B2BUA and rtpengine: a SIP-I
// carrier (compact header names, its proxy in Record-Route, the number only in P-Asserted-Identity,
// SDP inside multipart/mixed next to ISUP) calling a SIP-I gateway that answers the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { rawRequest, sendRawSipForResponse } from '../helpers/sip-raw.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.46';
const AGENT_IP = '127.0.0.47';
const NUMBER = '+74957770011';
const SRTP_NUMBER = '+74957770012';
const PRACK_NUMBER = '+74957770013';
const VIDEO_NUMBER = '+74957770014';
let h: Harness;
let server: CallServer;
let agentPort: number;
let plainAgentPort: number;
let earlyAgentPort: number;
let audioOnlyAgentPort: number;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  plainAgentPort = await freePort(AGENT_IP);
  earlyAgentPort = await freePort(AGENT_IP);
  audioOnlyAgentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    dialplans: {
      sipi: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] },
      srtp: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${plainAgentPort}`], ringSeconds: 5 } }] },
      prack: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${earlyAgentPort}`], ringSeconds: 5 } }] },
      video: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${audioOnlyAgentPort}`], ringSeconds: 5 } }] },
    },
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'sipi' });
  await server.provisionNumber({ number: SRTP_NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'srtp' });
  await server.provisionNumber({ number: PRACK_NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'prack' });
  await server.provisionNumber({ number: VIDEO_NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'video' });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

describe('a SIP-I interconnect', () => {
  it('connects a multipart (SDP + ISUP) call both ways, with the caller read from P-Asserted-Identity', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-sipi-gateway.xml'), ip: AGENT_IP, port: agentPort, timeoutSeconds: 20 });
    const caller = await runSipp({
      scenario: scenarioPath('uac-carrier-sipi.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      timeoutSeconds: 20,
    });
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    const gateway = await agent.done;
    // The gateway's own checks: it got SDP alone, nothing of the ISUP part.
    expect(gateway.code, gateway.errors + gateway.stderr).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBER);
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller', caller: '+79161112233' });
    expect((await h.rtpengine.command('query', { 'call-id': call.id })).result).not.toBe('ok');
  });

  it('refuses with 415 and the types it reads when a part it cannot read is marked required', async () => {
    const body = [
      '--b',
      'Content-Type: application/sdp',
      '',
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.46',
      's=-',
      'c=IN IP4 127.0.0.46',
      't=0 0',
      'm=audio 40000 RTP/AVP 0',
      '--b',
      'Content-Type: application/isup;version=itu-t92+',
      'Content-Disposition: signal;handling=required',
      '',
      'IAM',
      '--b--',
      '',
    ].join('\r\n');
    const response = await sendRawSipForResponse(CALLER_IP, server.sipPort, (l) =>
      rawRequest('INVITE', l, { user: NUMBER.slice(1), port: server.sipPort, body: { type: 'multipart/mixed;boundary=b', text: body } }),
    );
    expect(response.split('\r\n')[0]).toBe('SIP/2.0 415 Unsupported Media Type');
    expect(response).toMatch(/^Accept: application\/sdp, multipart\/mixed/im);
    expect(server.b2bua.liveCalls()).toBe(0);
  });
});

describe('a carrier on SDES-SRTP', () => {
  it('gets an SRTP answer with keys of its own while the agent’s phone gets plain RTP', async () => {
    const agent = await startSipp({ scenario: scenarioPath('uas-expect-plain-rtp.xml'), ip: AGENT_IP, port: plainAgentPort, timeoutSeconds: 20 });
    const caller = await runSipp({
      scenario: scenarioPath('uac-srtp-offer.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: SRTP_NUMBER.slice(1),
      timeoutSeconds: 20,
    });
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    const phone = await agent.done;
    expect(phone.code, phone.errors + phone.stderr).toBe(0);
    expect(await server.waitForCall((r) => r.trackingNumber === SRTP_NUMBER)).toMatchObject({ disposition: 'answered' });
  });
});

describe('a caller offering audio and video', () => {
  it('gets an answer with both streams, the video declined, though the agent’s phone answered the audio alone', async () => {
    // SIPp's built-in uas answers any offer with one audio line, as some phones and gateways do.
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: audioOnlyAgentPort, timeoutSeconds: 20 });
    const caller = await runSipp({
      scenario: scenarioPath('uac-audio-video-offer.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: VIDEO_NUMBER.slice(1),
      timeoutSeconds: 20,
    });
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    agent.stop();
    expect(await server.waitForCall((r) => r.trackingNumber === VIDEO_NUMBER)).toMatchObject({ disposition: 'answered' });
  });
});

describe('a carrier that requires reliable provisionals (100rel)', () => {
  it('gets its early media in a reliable 183, and the answer only after its PRACK', async () => {
    // The agent answers 50 ms after its 183; the carrier PRACKs after 300 ms: our 200 must wait.
    const agent = await startSipp({
      scenario: scenarioPath('uas-early-media-then-answer.xml'),
      ip: AGENT_IP,
      port: earlyAgentPort,
      vars: { EARLY_MS: '50' },
      timeoutSeconds: 20,
    });
    const caller = await runSipp({
      scenario: scenarioPath('uac-100rel-early-media.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: PRACK_NUMBER.slice(1),
      timeoutSeconds: 20,
    });
    agent.stop();
    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    expect(await server.waitForCall((r) => r.trackingNumber === PRACK_NUMBER)).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
  });
});
