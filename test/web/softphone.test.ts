// The agents' desk in a real browser: a signed-in agent connects the Phone page (SIP.js over
// WebSocket with short-lived credentials), a tracked SIPp call rings it with the screen pop, the
// agent answers, and media flows as WebRTC (ICE, DTLS-SRTP) through rtpengine to the caller's
// plain RTP. Chromium sends a 440 Hz tone as its microphone, the caller 1 kHz: the stereo recording
// holds the caller's tone on the left and the browser's on the right.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { toneSeconds } from '../helpers/goertzel.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, registerPhone, scenarioPath, startSipp } from '../helpers/sipp.js';
import { connectPhone, FAKE_MEDIA_FLAGS, fakeMicrophone, launch } from './browser.js';

const CALLER_IP = '127.0.27.1';
const COLLEAGUE_IP = '127.0.27.3';
const NUMBER = '+74952770001';
/** A number of the website's pool: shown to a visitor from a paid-search ad (dynamic number insertion). */
const POOL_NUMBER = '+74952770002';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36';
const PASSWORD = 'correct horse battery';

let h: Harness;
let server: CallServer;
let base: string;
let dir: string;
let colleaguePort: number;
let colleagueUser: string;
let siteKey: string;

beforeAll(async () => {
  execFileSync(process.execPath, ['server/web/build-web.mjs'], { stdio: 'inherit' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'softphone-'));
  const wsPort = await freePort('127.0.0.1');
  h = await createHarness({ SIP_WS_PORT: String(wsPort) });
  server = await startCallServer(h, {
    sipWsPort: wsPort,
    // No OPTIONS pings to the colleague's phone while the file runs: a SIPp 'uas' takes one for a call
    // it fails, and exits.
    keepaliveMs: 3_600_000,
    dialplans: { desk: { record: true, steps: [{ forward: { targets: ['extension:301'], ringSeconds: 30 } }] } },
  });
  const { trunkId } = await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'desk' });
  const api = (url: string, payload: object) => server.app.inject({ method: 'POST', url, headers: h.adminHeaders, payload });
  expect((await api('/v1/numbers', { number: POOL_NUMBER, trunkId, dialplan: 'desk' })).statusCode).toBe(201);
  const site = await api('/v1/sites', { name: 'Shop', domains: ['shop.example'], defaultNumber: NUMBER });
  expect(site.statusCode, site.body).toBe(201);
  siteKey = site.json().siteKey;
  const pool = await api('/v1/pools', { siteId: site.json().id, name: 'main', numbers: [POOL_NUMBER], holdSeconds: 600, exhaustionPolicy: 'default_number' });
  expect(pool.statusCode, pool.body).toBe(201);
  const source = await api('/v1/sources', { name: 'Spring flyer', kind: 'offline', channel: 'flyer', campaign: 'spring-sale', numbers: [NUMBER] });
  expect(source.statusCode, source.body).toBe(201);
  await server.routing.refresh();
  const user = await api('/v1/users', { email: 'agent@example.com', name: 'Agent', role: 'manager', password: PASSWORD });
  expect(user.statusCode, user.body).toBe(201);
  const extension = await api('/v1/extensions', { extension: '301', name: 'Agent in the browser', userId: user.json().id });
  expect(extension.statusCode, extension.body).toBe(201);
  // A colleague's desk phone (SIPp), registered as extension 302: the transfer target.
  const colleague = await api('/v1/extensions', { extension: '302', name: 'Colleague' });
  colleagueUser = colleague.json().sipUsername;
  colleaguePort = await freePort(COLLEAGUE_IP);
  const registered = await registerPhone({
    ip: COLLEAGUE_IP,
    target: `127.0.0.1:${server.sipPort}`,
    username: colleagueUser,
    password: colleague.json().sipPassword,
    contactPort: colleaguePort,
  });
  expect(registered.code, registered.errors).toBe(0);
  base = await server.app.listen({ host: '127.0.0.1', port: 0 });
}, 120_000);

/** A carrier caller (SIPp) dialling `number` with a 1 kHz tone of `toneSeconds`, hanging up after `talkMs`. */
const callIn = (number: string, o: { scenario?: string; toneSeconds: number; talkMs: number }) =>
  startSipp({
    scenario: scenarioPath(o.scenario ?? 'uac-tone-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: number.slice(1),
    vars: { TONE: makeToneFile(dir, 1000, o.toneSeconds), TALK_MS: String(o.talkMs) },
  });

const AGENT = { email: 'agent@example.com', password: PASSWORD, extension: '301' };
afterAll(async () => {
  await server?.stop();
  await h?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('answers a tracked call in the browser with the screen pop from the DNI session, and records caller and agent apart', async () => {
  // A visitor lands from a search ad; the snippet's session shows them the pool's number.
  const visit = await server.app.inject({
    method: 'POST',
    url: '/v1/dni/sessions',
    headers: { origin: 'https://shop.example', 'user-agent': UA, 'content-type': 'application/json' },
    payload: {
      siteKey,
      url: 'https://shop.example/sofas?utm_source=google&utm_medium=cpc&utm_campaign=winter-sale&utm_term=corner+sofa',
      referrer: 'https://www.google.com/',
    },
  });
  expect(visit.statusCode, visit.body).toBe(200);
  expect(visit.json().number).toBe(POOL_NUMBER);
  const { context, close } = await launch(undefined, [...FAKE_MEDIA_FLAGS, `--use-file-for-fake-audio-capture=${fakeMicrophone(dir, 440, 30)}`]);
  try {
    const page = await context.newPage();
    await connectPhone(page, base, AGENT);

    const caller = await callIn(POOL_NUMBER, { toneSeconds: 4, talkMs: 4000 });
    const panel = page.getByTestId('call-panel');
    await panel.getByText(/Incoming call/).waitFor({ timeout: 15_000 });
    // Where the caller came from, before anyone picks up.
    const pop = page.getByTestId('screen-pop');
    await pop.getByText('google / cpc', { exact: true }).waitFor();
    await pop.getByText('winter-sale', { exact: true }).waitFor();
    await pop.getByText('corner sofa', { exact: true }).waitFor();
    await pop.getByText('https://shop.example/sofas', { exact: false }).waitFor();
    await pop.getByText(POOL_NUMBER).waitFor();
    const setupStarted = Date.now();
    await panel.getByRole('button', { name: 'Answer' }).click();
    await panel.getByText(/On a call/).waitFor({ timeout: 10_000 });
    const answerMs = Date.now() - setupStarted;
    const result = await caller.done;
    expect(result.code, result.errors + result.stderr).toBe(0);
    await panel.waitFor({ state: 'detached', timeout: 10_000 });

    const call = await server.waitForCall((r) => r.trackingNumber === POOL_NUMBER);
    expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
    expect(call.answeredBy).toMatch(/transport=ws/);
    expect(await server.waitForRecording(call.id, 20_000)).toBe('ready');
    const channels = await server.recordedChannels(call.id);
    expect(channels).toHaveLength(2);
    const callerTone = toneSeconds(channels[0]!, 8000, 1000, [1000, 440]);
    const browserTone = toneSeconds(channels[1]!, 8000, 440, [1000, 440]);
    process.stdout.write(`browser answer to media: ${answerMs} ms; caller tone ${callerTone} s left, browser tone ${browserTone} s right\n`);
    expect(callerTone).toBeGreaterThanOrEqual(3);
    expect(browserTone).toBeGreaterThanOrEqual(3);
    // Each side hears only itself on its own channel: no browser tone on the caller's.
    expect(toneSeconds(channels[0]!, 8000, 440, [1000, 440])).toBeLessThan(0.5);
  } finally {
    await close();
  }
}, 120_000);

it('transfers a call from the browser to a colleague’s extension (blind, REFER)', async () => {
  const { context, close } = await launch(undefined, FAKE_MEDIA_FLAGS);
  try {
    const page = await context.newPage();
    await connectPhone(page, base, AGENT);
    const colleague = await startSipp({ scenario: 'uas', ip: COLLEAGUE_IP, port: colleaguePort, rtpEcho: true });
    const caller = await callIn(NUMBER, { toneSeconds: 1, talkMs: 6000 });
    const panel = page.getByTestId('call-panel');
    await panel.getByRole('button', { name: 'Answer' }).click();
    await panel.getByText(/On a call/).waitFor({ timeout: 10_000 });
    await panel.getByLabel(/Transfer to/).fill('302');
    await panel.getByRole('button', { name: 'Transfer' }).click();
    // The browser's leg is hung up once the colleague has the caller.
    await panel.waitFor({ state: 'detached', timeout: 15_000 });
    const result = await caller.done;
    expect(result.code, result.errors + result.stderr).toBe(0);
    const colleagueResult = await colleague.done;
    expect(colleagueResult.code, colleagueResult.errors).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBER && r.answeredTarget === 'extension:302');
    expect(call).toMatchObject({ disposition: 'answered', answeredBy: `sip:${colleagueUser}@${COLLEAGUE_IP}:${colleaguePort}`, hangupBy: 'caller' });
  } finally {
    await close();
  }
}, 120_000);

it('transfers a call from the browser after consulting the colleague (attended, REFER with Replaces)', async () => {
  const { context, close } = await launch(undefined, [...FAKE_MEDIA_FLAGS, `--use-file-for-fake-audio-capture=${fakeMicrophone(dir, 440, 30)}`]);
  try {
    const page = await context.newPage();
    await connectPhone(page, base, AGENT);
    // The colleague answers the consultation, then is re-INVITEd into the caller's call.
    const colleague = await startSipp({
      scenario: scenarioPath('uas-answer-expect-reinvite-then-bye.xml'),
      ip: COLLEAGUE_IP,
      port: colleaguePort,
      rtpEcho: true,
    });
    // The caller is put on hold for the consultation and taken off hold once the colleague has it.
    const caller = await callIn(NUMBER, { scenario: 'uac-tone-expect-hold-resume-bye.xml', toneSeconds: 2, talkMs: 3000 });
    const panel = page.getByTestId('call-panel');
    await panel.getByRole('button', { name: 'Answer' }).click();
    await panel.getByText(/On a call/).waitFor({ timeout: 10_000 });
    await panel.getByLabel(/Transfer to/).fill('302');
    await panel.getByRole('button', { name: 'Consult' }).click();
    const consult = page.getByTestId('consult-panel');
    await consult.getByText('Consulting 302').waitFor({ timeout: 15_000 });
    await panel.getByText(/On hold/).waitFor();
    // The agent and the colleague talk a moment (its recording below shows both ways of that media).
    await page.waitForTimeout(3000);
    await consult.getByRole('button', { name: 'Complete transfer' }).click();
    // The server hangs up both of the browser's calls once the colleague has the caller.
    await panel.waitFor({ state: 'detached', timeout: 15_000 });
    const result = await caller.done;
    expect(result.code, result.errors + result.stderr).toBe(0);
    const colleagueResult = await colleague.done;
    expect(colleagueResult.code, colleagueResult.errors).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === NUMBER && r.answeredTarget === 'extension:302' && r.hangupBy === 'caller');
    expect(call).toMatchObject({ disposition: 'answered', answeredBy: `sip:${colleagueUser}@${COLLEAGUE_IP}:${colleaguePort}` });
    // The consultation was the browser's own internal call to 302.
    const consultation = server.ended.find((r) => r.direction === 'internal' && r.caller === '301' && r.callee === '302');
    expect(consultation).toMatchObject({ disposition: 'answered', answeredTarget: 'extension:302' });
    // Its media was WebRTC on the browser's side and plain RTP on the colleague's: the browser's
    // tone is on the caller's channel and the colleague's echo of it on the other.
    expect(await server.waitForRecording(consultation!.id, 20_000)).toBe('ready');
    const channels = await server.recordedChannels(consultation!.id);
    const browserTone = toneSeconds(channels[0]!, 8000, 440, [1000, 440]);
    const echoedTone = toneSeconds(channels[1]!, 8000, 440, [1000, 440]);
    process.stdout.write(`consultation from the browser: browser tone ${browserTone} s, colleague's echo ${echoedTone} s\n`);
    expect(browserTone).toBeGreaterThanOrEqual(1.5);
    expect(echoedTone).toBeGreaterThanOrEqual(1.5);
  } finally {
    await close();
  }
}, 120_000);

it('places a call from the page to a colleague’s extension', async () => {
  // Up before the browser dials: a port not yet bound would refuse the INVITE outright.
  const colleague = await startSipp({ scenario: 'uas', ip: COLLEAGUE_IP, port: colleaguePort, rtpEcho: true });
  const { context, close } = await launch(undefined, FAKE_MEDIA_FLAGS);
  try {
    const page = await context.newPage();
    await connectPhone(page, base, AGENT);
    await page.getByLabel(/Number to call/).fill('302');
    await page.getByRole('button', { name: 'Call', exact: true }).click();
    const panel = page.getByTestId('call-panel');
    await panel.getByText(/On a call/).waitFor({ timeout: 15_000 });
    await panel.getByRole('button', { name: 'Hang up' }).click();
    await panel.waitFor({ state: 'detached', timeout: 10_000 });
    const colleagueResult = await colleague.done;
    expect(colleagueResult.code, colleagueResult.errors).toBe(0);
    const call = await server.waitForCall((r) => r.direction === 'internal' && r.caller === '301' && r.hangupBy === 'caller');
    expect(call).toMatchObject({ callee: '302', disposition: 'answered', answeredTarget: 'extension:302' });
  } finally {
    colleague.stop();
    await close();
  }
}, 120_000);
