/**
 * bench:webrtc — browser softphones on this box: N agents signed in to the Phone page in one
 * headless Chromium (a context each, fake microphone), N SIPp carrier calls at once, each answered
 * in its browser. Prints, per N: answer-to-media time (click on Answer until the call is up: ICE
 * and DTLS through rtpengine), calls that failed, and CPU per call while all talk — rtpengine
 * (userspace ICE, DTLS-SRTP, SRTP both ways), Chromium, and this Node process. Steps from
 * WEBRTC_STEPS (default "1,4,8"). About 1–2 min.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
// @ts-expect-error plain ESM helper without types (as bench/sip.bench.ts uses it)
import { startPostgres, startRedis, startRtpengine } from '../infra/services.mjs';
import { startCallServer } from '../test/helpers/call-server.js';
import { createHarness } from '../test/helpers/harness.js';
import { freePort } from '../test/helpers/ports.js';
import { makeToneFile, scenarioPath, startSipp } from '../test/helpers/sipp.js';
import { connectPhone, FAKE_MEDIA_FLAGS, fakeMicrophone } from '../test/web/browser.js';
import { cpuSample } from './cpu.js';

const STEPS = (process.env.WEBRTC_STEPS ?? '1,4,8').split(',').map(Number);
const TALK_SECONDS = 15;
const CALLER_IP = '127.0.28.1';
const PASSWORD = 'bench password 1';
const say = (s: string) => process.stdout.write(`${s}\n`);

await startPostgres();
await startRedis();
await startRtpengine();
execFileSync(process.execPath, ['server/web/build-web.mjs'], { stdio: 'inherit' });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webrtc-bench-'));
const tone = makeToneFile(dir, 1000, TALK_SECONDS);
const agents = Math.max(...STEPS);
const wsPort = await freePort('127.0.0.1');
const h = await createHarness({ SIP_WS_PORT: String(wsPort) });
const numbers = Array.from({ length: agents }, (_, i) => `+7495288${String(i).padStart(4, '0')}`);
const server = await startCallServer(h, {
  sipWsPort: wsPort,
  dialplans: Object.fromEntries(
    numbers.map((_, i) => [`agent${i}`, { record: true, steps: [{ forward: { targets: [`extension:${600 + i}`], ringSeconds: 30 } }] }]),
  ),
});
const api = (url: string, payload: object) => server.app.inject({ method: 'POST', url, headers: h.adminHeaders, payload });
let trunkId: string | undefined;
for (const [i, number] of numbers.entries()) {
  if (!trunkId) trunkId = (await server.provisionNumber({ number, trunkAddresses: [`${CALLER_IP}/32`], dialplan: `agent${i}` })).trunkId;
  else await api('/v1/numbers', { number, trunkId, dialplan: `agent${i}` });
  const user = (await api('/v1/users', { email: `agent${i}@example.com`, name: `Agent ${i}`, role: 'manager', password: PASSWORD })).json();
  await api('/v1/extensions', { extension: String(600 + i), name: `Agent ${i}`, userId: user.id });
}
await server.routing.refresh();
const base = await server.app.listen({ host: '127.0.0.1', port: 0 });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    ...FAKE_MEDIA_FLAGS,
    `--use-file-for-fake-audio-capture=${fakeMicrophone(dir, 440, 60)}`,
    '--autoplay-policy=no-user-gesture-required',
  ],
});
try {
  const pages = [];
  for (let i = 0; i < agents; i++) {
    const page = await (await browser.newContext()).newPage();
    await connectPhone(page, base, { email: `agent${i}@example.com`, password: PASSWORD, extension: String(600 + i) }, 20_000);
    pages.push(page);
  }
  say(
    `bench:webrtc — ${agents} browser agents registered over WebSocket; each step: N carrier calls at once, answered in N browsers, ${TALK_SECONDS} s of tone each way`,
  );
  say('N  | answer→media p50 / max | failed | CPU per call while talking: rtpengine / Chromium / node');
  for (const n of STEPS) {
    const callers = await Promise.all(
      numbers.slice(0, n).map((number) =>
        startSipp({
          scenario: scenarioPath('uac-tone-bye.xml'),
          ip: CALLER_IP,
          target: `127.0.0.1:${server.sipPort}`,
          service: number.slice(1),
          vars: { TONE: tone, TALK_MS: String(TALK_SECONDS * 1000) },
        }),
      ),
    );
    const setups = await Promise.all(
      pages.slice(0, n).map(async (page) => {
        const panel = page.getByTestId('call-panel');
        await panel.getByRole('button', { name: 'Answer' }).waitFor({ timeout: 20_000 });
        const started = performance.now();
        await panel.getByRole('button', { name: 'Answer' }).click();
        await panel.getByText(/On a call/).waitFor({ timeout: 20_000 });
        return performance.now() - started;
      }),
    );
    // CPU over the middle of the talk, when every call is up.
    await new Promise((r) => setTimeout(r, 2_000));
    const before = cpuSample();
    const windowSeconds = TALK_SECONDS - 6;
    await new Promise((r) => setTimeout(r, windowSeconds * 1000));
    const after = cpuSample();
    const results = await Promise.all(callers.map((c) => c.done));
    const failed = results.filter((r) => r.code !== 0).length;
    const perCall = (key: 'rtpengine' | 'browser' | 'node') => `${((((after[key] - before[key]) / windowSeconds) * 100) / n).toFixed(1)} %`;
    setups.sort((a, b) => a - b);
    say(
      `${String(n).padEnd(2)} | ${setups[Math.floor(setups.length / 2)]!.toFixed(0)} ms / ${setups.at(-1)!.toFixed(0)} ms | ${failed} | ${perCall('rtpengine')} / ${perCall('browser')} / ${perCall('node')} of a core`,
    );
    await Promise.all(pages.slice(0, n).map((page) => page.getByTestId('call-panel').waitFor({ state: 'detached', timeout: 20_000 })));
  }
} finally {
  await browser.close();
  await server.stop();
  await h.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
