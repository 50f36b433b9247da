/**
 * SIP call-path benchmark: SIPp caller → our B2BUA (rtpengine anchoring, `record call: yes`,
 * call records in Postgres) → SIPp agent, all on loopback.
 *
 *   npm run bench:sip                 # both phases, ~2-3 minutes
 *   BENCH_CPS=100,200 npm run bench:sip
 *   BENCH_SIP_PROFILE=<dir> npm run bench:sip   # a CPU profile of this process per calls-per-second step
 *
 * Phase 1, concurrency: holds N calls at once with RTP streaming through rtpengine (caller tone,
 * agent echo) and samples rtpengine's packet counters to prove media flows on both sides.
 * Phase 2, calls per second: steps the offered rate up; a step passes only if every call was
 * answered end to end (SIPp exit 0, every call record answered, nothing left in rtpengine).
 * Recording conversion (pcap → stereo) is not run here: it is queued off the call path; the
 * pcaps rtpengine writes for the bench's calls are deleted at the end.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error plain .mjs shared with the set-up script, no types
import { startPostgres, startRedis, startRtpengine } from '../infra/services.mjs';
import { type CallServer, startCallServer } from '../test/helpers/call-server.js';
import { createHarness, type Harness } from '../test/helpers/harness.js';
import { freePort } from '../test/helpers/ports.js';
import { makeToneFile, runSipp, startSipp } from '../test/helpers/sipp.js';
import { cpuSample, perThousandCalls } from './cpu.js';
import { profiled } from './cpu-profile.js';
import { finishAgent, holdStep, RAMP_CPS, until } from './hold-step.js';
import { removeBenchRecordings } from './recording-files.js';
import { sippErrors } from './sipp-errors.js';

const CALLER_IP = '127.0.0.40';
const AGENT_IP = '127.0.0.41';
const NUMBER = '+74959990000';
const STEP_SECONDS = 4;
const CALL_MS = 500;
const list = (v: string | undefined, d: number[]) =>
  v
    ? v
        .split(',')
        .map(Number)
        .filter((n) => n > 0)
    : d;
const CPS_STEPS = list(process.env.BENCH_CPS, [200, 400, 600, 800, 1000, 1200, 1500]);
const CONCURRENCY_STEPS = list(process.env.BENCH_CONCURRENT, [500, 1000, 2000]);
const say = (s: string) => process.stdout.write(`${s}\n`);

interface StepResult {
  ok: boolean;
  detail: string;
}

async function cpsStep(h: Harness, server: CallServer, agentPort: number, rate: number): Promise<StepResult> {
  const calls = rate * STEP_SECONDS;
  const before = server.ended.length;
  const agent = await startSipp({
    scenario: 'uas',
    ip: AGENT_IP,
    port: agentPort,
    // Room for stray messages: SIPp counts a BYE it cannot place (a late retransmission) as a call.
    calls: calls * 2,
    timeoutSeconds: STEP_SECONDS + 60,
    extraArgs: ['-max_socket', '4096'],
  });
  const started = Date.now();
  const caller = await runSipp({
    scenario: 'uac',
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: NUMBER.slice(1),
    calls,
    rate,
    limit: rate * 4,
    timeoutSeconds: STEP_SECONDS + 60,
    extraArgs: ['-d', String(CALL_MS), '-max_socket', '4096'],
  });
  const elapsed = (Date.now() - started) / 1000;
  const agentRun = await finishAgent(agent); // the next step's agent binds the same port
  await until(() => server.ended.length - before >= calls && server.b2bua.liveCalls() === 0, 15_000);
  const records = server.ended.slice(before);
  const answered = records.filter((r) => r.disposition === 'answered').length;
  const leaked = (await Promise.all(records.slice(0, 20).map((r) => h.rtpengine.command('query', { 'call-id': r.id })))).filter(
    (q) => q.result === 'ok',
  ).length;
  const ok = caller.code === 0 && answered === calls && leaked === 0;
  const counts = new Map<string, number>();
  for (const r of records) counts.set(`${r.disposition}/${r.finalSipStatus ?? '-'}`, (counts.get(`${r.disposition}/${r.finalSipStatus ?? '-'}`) ?? 0) + 1);
  const dispositions = [...counts].map(([k, n]) => `${k}:${n}`).join(' ');
  return {
    ok,
    detail: `${calls} calls in ${elapsed.toFixed(1)} s, answered ${answered}/${calls}, sipp exit ${caller.code}, rtpengine leaks in sample ${leaked}${ok ? '' : `; records ${dispositions}; caller sipp: ${sippErrors(caller.errors)}; agent sipp: ${sippErrors(agentRun.errors)}`}`,
  };
}

/** A concurrency step against the in-process B2BUA; every call must also be answered in its record. */
async function concurrencyStep(h: Harness, server: CallServer, agentPort: number, tone: string, target: number): Promise<StepResult> {
  const before = server.ended.length;
  const r = await holdStep({
    rtpengine: h.rtpengine,
    target: `127.0.0.1:${server.sipPort}`,
    callerIp: CALLER_IP,
    agentIp: AGENT_IP,
    agentPort,
    number: NUMBER,
    tone,
    calls: target,
    probe: { liveCalls: () => server.b2bua.liveCalls(), sampleCallIds: () => server.b2bua.liveCallIds() },
  });
  await until(() => server.ended.length - before >= target && server.b2bua.liveCalls() === 0, 20_000);
  const answered = server.ended.slice(before).filter((r) => r.disposition === 'answered').length;
  return { ok: r.ok && answered === target, detail: `${r.detail}, answered ${answered}/${target}` };
}

async function main(): Promise<void> {
  // No-ops when the services already run (they are shared: never restarted here).
  await startPostgres();
  await startRedis();
  await startRtpengine();
  const h = await createHarness();
  const agentPort = await freePort(AGENT_IP);
  const server = await startCallServer(h, {
    convertRecordings: false,
    dialplans: { bench: { record: true, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 10 } }] } },
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'bench' });
  const tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tone-')), 1000, 2);
  say(`SIP bench: SIPp uac ${CALLER_IP} → B2BUA 127.0.0.1:${server.sipPort} (rtpengine, record call: yes) → SIPp uas ${AGENT_IP}; ${os.cpus().length} CPUs`);
  let bestCps = 0;
  let bestConcurrent = 0;
  try {
    // Concurrency first: the CPS ramp ends by exhausting something (here rtpengine's port range:
    // "Ran out of ports" at 1000 CPS), and a concurrency step run right after that failed.
    say(`\nPhase 1: concurrent calls held with RTP (ramp ${RAMP_CPS} CPS, caller streams a tone, agent echoes)`);
    for (const target of CONCURRENCY_STEPS) {
      const r = await concurrencyStep(h, server, agentPort, tone, target);
      say(`  ${String(target).padStart(5)} calls: ${r.ok ? 'ok  ' : 'FAIL'} ${r.detail}`);
      if (!r.ok) break;
      bestConcurrent = target;
    }
    await until(() => server.b2bua.liveCalls() === 0, 40_000);
    say('\nPhase 2: calls per second (each step ' + `${STEP_SECONDS} s of calls lasting ${CALL_MS} ms)`);
    for (const rate of CPS_STEPS) {
      const cpuBefore = cpuSample();
      const { result: r } = await profiled(process.env.BENCH_SIP_PROFILE, `sip-${rate}cps`, () => cpsStep(h, server, agentPort, rate));
      say(`  ${String(rate).padStart(4)} CPS: ${r.ok ? 'ok  ' : 'FAIL'} ${r.detail}`);
      say(`            ${perThousandCalls(cpuBefore, cpuSample(), rate * STEP_SECONDS)}`);
      if (!r.ok) break;
      bestCps = rate;
    }
  } finally {
    const ids = new Set(server.ended.map((r) => r.id));
    await removeBenchRecordings(h.config.rtpengine.recordingDir, ({ callId }) => ids.has(callId));
    await server.stop();
    await h.close();
  }
  say(`\nRESULT: highest CPS with 0 failed calls (recording on): ${bestCps}; most concurrent calls held with RTP: ${bestConcurrent}`);
  process.exit(0);
}

await main();
