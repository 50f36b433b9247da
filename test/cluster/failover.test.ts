// The failover drill: Kamailio in front of two nodes, one of them a separate process; SIPp offers
// calls at a steady 5 CPS through the edge; the process is killed with SIGKILL mid-run. Calls
// offered once the edge has noticed (~2 s) must all be answered by the survivor.
import { type ChildProcess, spawn } from 'node:child_process';
import readline from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stopEdge } from '../../infra/edge.mjs';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';
import { startTestEdge } from '../helpers/test-edge.js';

const EDGE_IP = '127.0.15.2';
const CALLER_IP = '127.0.15.52';
const AGENT_IP = '127.0.15.53';
const NUMBER = '+74952215002';
const CPS = 5;
const CALLS = 40;
const KILL_AFTER_MS = 3_000;
const NOTICE_MS = 2_000;

let h: Harness;
let survivor: CallServer;
let doomed: ChildProcess;
let edge: ChildProcess;
let edgePort: number;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  const agentTarget = `sip:agent@${AGENT_IP}:${agentPort}`;
  survivor = await startCallServer(h, {
    convertRecordings: false,
    sipTrustedEdges: [EDGE_IP],
    dialplans: { plain: { steps: [{ forward: { targets: [agentTarget], ringSeconds: 5 } }] } },
  });
  const trunk = await survivor.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'carrier', addresses: [`${CALLER_IP}/32`] },
  });
  await survivor.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: NUMBER, trunkId: trunk.json().id, dialplan: 'plain' },
  });
  await survivor.routing.refresh();
  // node itself, not the tsx wrapper: SIGKILL must hit the process that holds the calls.
  doomed = spawn(process.execPath, ['--import', 'tsx', 'test/cluster/node-child.ts', EDGE_IP, CALLER_IP, agentTarget, NUMBER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = readline.createInterface({ input: doomed.stdout! });
  const doomedPort = await new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('{"sipPort"')) resolve(JSON.parse(line).sipPort);
    });
    doomed.once('exit', (code) => reject(new Error(`node process exited early (${code})`)));
  });
  const started = await startTestEdge(h, { ip: EDGE_IP, nodePorts: [survivor.sipPort, doomedPort], name: 'failover' });
  edge = started.process;
  edgePort = started.port;
}, 60_000);

afterAll(async () => {
  await stopEdge(edge);
  doomed?.kill('SIGKILL');
  await survivor?.stop().catch(() => undefined);
  await h?.close();
});

it('loses no new call once the edge noticed a node killed with SIGKILL', async () => {
  const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: CALLS, timeoutSeconds: 90 });
  const caller = runSipp({
    scenario: scenarioPath('uac-record-route.xml'),
    ip: CALLER_IP,
    target: `${EDGE_IP}:${edgePort}`,
    service: NUMBER.slice(1),
    calls: CALLS,
    rate: CPS,
    extraArgs: ['-d', '100'],
    timeoutSeconds: 90,
  });
  await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS));
  doomed.kill('SIGKILL');
  const result = await caller;
  agent.stop();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  // SIPp numbers its calls 1…CALLS in Call-IDs "n-pid@ip", offered every 1/CPS s.
  const firstAfterNotice = Math.ceil(((KILL_AFTER_MS + NOTICE_MS) / 1000) * CPS) + 1;
  const answered = new Set(survivor.ended.filter((record) => record.disposition === 'answered').map((record) => Number(record.sipCallId.split('-')[0])));
  const lost = [];
  for (let n = firstAfterNotice; n <= CALLS; n++) if (!answered.has(n)) lost.push(n);
  expect(lost, result.errors).toEqual([]);
  // The survivor kept taking its share before the kill too.
  expect([...answered].filter((n) => n < firstAfterNotice).length).toBeGreaterThan(0);
}, 120_000);
