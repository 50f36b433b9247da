/**
 * bench:edge — through the Kamailio edge with two B2BUA node processes behind it, next to the same
 * steps sent straight to one node: SIPp caller → (edge →) node → SIPp agent. Nodes run as their own
 * processes (test/cluster/node-child.ts) with recording on, sharing Postgres, Redis and rtpengine.
 * - Concurrent calls held with RTP (bench/hold-step.ts, as in bench:sip): caller streams a tone,
 *   agent echoes; live calls are counted in rtpengine (run on a quiet box).
 * - Calls per second: 4 s per step, a step passing only when SIPp reports every call completed.
 * BENCH_EDGE_CONCURRENT=500,1000 and BENCH_EDGE_CPS=100,200 to change the steps (0 skips a phase).
 * About 2–3 minutes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { startEdge, stopEdge } from '../infra/edge.mjs';
// @ts-expect-error plain ESM helper without types
import { startPostgres, startRedis, startRtpengine } from '../infra/services.mjs';
import { loadConfig } from '../server/config.js';
import { createRtpengine } from '../server/media/rtpengine.js';
import { freePort } from '../test/helpers/ports.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../test/helpers/sipp.js';
import { removeBenchRecordings } from './recording-files.js';
import { sippErrors } from './sipp-errors.js';
import { finishAgent, holdStep, RAMP_CPS, rtpengineProbe, rtpengineSessions, until } from './hold-step.js';

const EDGE_IP = '127.0.0.70';
const CALLER_IP = '127.0.0.71';
const AGENT_IP = '127.0.0.72';
const NUMBER = '+74959997000';
const STEP_SECONDS = 4;
const CALL_MS = 500;
const steps = (v: string) =>
  v
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
const STEPS = steps(process.env.BENCH_EDGE_CPS ?? '100,200,300,400,600');
const CONCURRENCY_STEPS = steps(process.env.BENCH_EDGE_CONCURRENT ?? '500,1000,2000');
const say = (s: string) => process.stdout.write(`${s}\n`);

async function startNode(agentTarget: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/cluster/node-child.ts', EDGE_IP, CALLER_IP, agentTarget, NUMBER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('{"sipPort"')) resolve(JSON.parse(line).sipPort);
    });
    child.once('exit', (code) => reject(new Error(`node exited early (${code})`)));
  });
  return { child, port };
}

async function step(target: string, scenario: string, agentPort: number, rate: number): Promise<string> {
  const calls = rate * STEP_SECONDS;
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
    scenario,
    ip: CALLER_IP,
    target,
    service: NUMBER.slice(1),
    calls,
    rate,
    limit: rate * 4,
    timeoutSeconds: STEP_SECONDS + 60,
    extraArgs: ['-d', String(CALL_MS), '-max_socket', '4096'],
  });
  await finishAgent(agent); // the next step's agent binds the same port
  const failed = /(\d+)\s+Failed call/i.exec(caller.stdout)?.[1];
  return `${caller.code === 0 ? 'pass' : 'FAIL'}  ${calls} calls in ${((Date.now() - started) / 1000).toFixed(1)} s${caller.code === 0 ? '' : ` (sipp exit ${caller.code}${failed ? `, ${failed} failed` : ''}; ${sippErrors(caller.errors)})`}`;
}

await startPostgres();
await startRedis();
await startRtpengine();
const agentPort = await freePort(AGENT_IP);
const agentTarget = `sip:agent@${AGENT_IP}:${agentPort}`;
const nodes = [await startNode(agentTarget), await startNode(agentTarget)];
/** Recording files written from here on are this run's (run the bench alone). */
const benchStarted = Date.now();
const edgePort = await freePort(EDGE_IP);
const edgeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-edge-'));
const edge = startEdge({
  dir: edgeDir,
  host: EDGE_IP,
  port: edgePort,
  nodes: nodes.map((n) => ({ host: '127.0.0.1', port: n.port })),
  // One SIPp caller stands for a carrier trunk sending every call from one address: the flood limit
  // (EDGE_PIKE_DENSITY in start:cluster) is raised for it, as an operator does for a big carrier.
  pikeDensity: 100_000,
  logFile: path.join(edgeDir, 'kamailio.log'),
});
await new Promise((resolve) => setTimeout(resolve, 2_500)); // the dispatcher's first OPTIONS probes
say(`bench:edge — ${STEP_SECONDS} s steps, calls of ${CALL_MS} ms, recording on; 2-core box shared by SIPp, Kamailio, the nodes, rtpengine, Postgres`);
const rtpengine = createRtpengine(loadConfig({ NODE_ENV: 'test' }).rtpengine.ng);
const tone = makeToneFile(edgeDir, 1000, 2);
const idleSessions = await rtpengineSessions(rtpengine);
/** The previous step's rtpengine sessions must be gone, or they would count as the next step's. */
const sessionsDrained = () => until(async () => (await rtpengineSessions(rtpengine)) <= idleSessions, 40_000);
/** The most calls held at once with RTP through `target`, stepping up until one fails. */
async function mostHeld(label: string, target: string): Promise<number> {
  let best = 0;
  for (const calls of CONCURRENCY_STEPS) {
    await sessionsDrained();
    const probe = await rtpengineProbe(rtpengine);
    const r = await holdStep({ rtpengine, target, callerIp: CALLER_IP, agentIp: AGENT_IP, agentPort, number: NUMBER, tone, calls, probe });
    say(`${String(calls).padStart(5)} calls  ${label}: ${r.ok ? 'pass' : 'FAIL'}  ${r.detail}`);
    if (!r.ok) break;
    best = calls;
  }
  return best;
}
try {
  if (CONCURRENCY_STEPS.length > 0) {
    say(`Concurrent calls held with RTP (ramp ${RAMP_CPS} CPS, caller streams a tone, agent echoes):`);
    const direct = await mostHeld('one node, direct       ', `127.0.0.1:${nodes[0]!.port}`);
    const throughEdge = await mostHeld('edge + 2 node processes', `${EDGE_IP}:${edgePort}`);
    say(`CONCURRENCY: most calls held with RTP: one node direct ${direct}, edge + 2 nodes ${throughEdge}\n`);
    await sessionsDrained();
  }
  for (const rate of STEPS) {
    say(`${String(rate).padStart(5)} CPS  one node, direct:        ${await step(`127.0.0.1:${nodes[0]!.port}`, 'uac', agentPort, rate)}`);
    say(
      `${String(rate).padStart(5)} CPS  edge + 2 node processes: ${await step(`${EDGE_IP}:${edgePort}`, scenarioPath('uac-record-route.xml'), agentPort, rate)}`,
    );
  }
} finally {
  await stopEdge(edge);
  for (const n of nodes) n.child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  // The nodes record but do not convert (that would be CPU beside the bench): their files go here.
  const removed = await removeBenchRecordings(loadConfig({ NODE_ENV: 'test' }).rtpengine.recordingDir, ({ mtimeMs }) => mtimeMs >= benchStarted);
  say(`removed ${removed} recording files of this run`);
}
process.exit(0);
