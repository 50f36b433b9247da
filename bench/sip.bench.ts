// npm run bench:sip — SIPp caller → our B2BUA (rtpengine, recording on) → SIPp agent, on loopback.
// 1. Highest calls-per-second with zero failed calls (short calls, rates stepped up).
// 2. Most concurrent calls held with RTP flowing (SIPp uac_pcap plays G.711 in every call).
// Prints figures; asserts nothing. Bounded: each step is a few seconds, the whole run ≲ 3 min.
// @ts-expect-error plain .mjs shared with the set-up script
import { startPostgres, startRedis, startRtpengine } from '../infra/services.mjs';
import { type CallServer, startCallServer } from '../test/helpers/call-server.js';
import { createHarness } from '../test/helpers/harness.js';
import { freePort } from '../test/helpers/ports.js';
import { runSipp, startSipp } from '../test/helpers/sipp.js';

const CALLER_IP = '127.0.0.20';
const AGENT_IP = '127.0.0.21';
const NUMBER = '+74950001122';

await startPostgres();
await startRedis();
await startRtpengine();
const h = await createHarness();
const agentPort = await freePort(AGENT_IP);
const server: CallServer = await startCallServer(h, {
  dialplans: { bench: { record: true, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 10 } }] } },
});
await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'bench' });
const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: 1_000_000, timeoutSeconds: 600, rtpEcho: true });

const failedCalls = (stdout: string, stderr: string) => {
  const m = /Failed call\s+\|\s+\d+\s+\|\s+(\d+)/.exec(stdout);
  return m ? Number(m[1]) : /Failed|error/i.test(stderr) ? -1 : 0;
};

async function cpsStep(rate: number, seconds: number): Promise<{ rate: number; calls: number; failed: number; ok: boolean }> {
  const calls = rate * seconds;
  const before = server.ended.length;
  const r = await runSipp({
    scenario: 'uac', ip: CALLER_IP, target: `127.0.0.1:${server.sipPort}`, service: NUMBER.slice(1), calls, rate,
    extraArgs: ['-d', '500', '-rate_period', '1000'], timeoutSeconds: seconds + 30,
  });
  const deadline = Date.now() + 15_000;
  while (server.ended.length - before < calls && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
  const recorded = server.ended.length - before;
  if (r.code !== 0) console.log(r.errors.slice(0, 1500));
  const failed = r.code === 0 ? Math.max(0, calls - recorded) : Math.max(1, failedCalls(r.stdout, r.stderr));
  return { rate, calls, failed, ok: r.code === 0 && failed === 0 };
}

console.log('== calls per second (0.5 s calls, recording on, 5 s per step)');
let bestCps = 0;
for (const rate of (process.env.BENCH_RATES ?? '50,100,200,300,400,500,600,800').split(',').map(Number)) {
  const s = await cpsStep(rate, 5);
  console.log(`rate ${rate}/s: ${s.calls} calls, ${s.failed} failed ${s.ok ? 'OK' : 'FAIL'}`);
  if (!s.ok) break;
  bestCps = rate;
}
console.log(`highest CPS with 0 failed calls: ${bestCps}`);

console.log('== concurrent calls with RTP (SIPp uac_pcap: G.711 audio both ways)');
let peak = 0;
const sampler = setInterval(() => { peak = Math.max(peak, server.b2bua.liveCalls()); }, 100);
const target = Number(process.env.BENCH_CONCURRENT ?? 1000);
const r = await runSipp({
  scenario: 'uac_pcap', ip: CALLER_IP, target: `127.0.0.1:${server.sipPort}`, service: NUMBER.slice(1), calls: target, rate: 100,
  limit: target, timeoutSeconds: 120, extraArgs: ['-rate_period', '1000'],
});
clearInterval(sampler);
console.log(`placed ${target} calls at 100/s: SIPp exit ${r.code}, failed ${failedCalls(r.stdout, r.stderr)}; peak concurrent calls held: ${peak}`);

agent.stop();
await server.stop();
await h.close();
process.exit(0);
