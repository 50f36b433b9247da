// A node killed with SIGKILL while people are talking: once it restarts, the calls it was on are
// stored (ended by the system, talk time up to its last sign of life) and their rtpengine sessions
// are gone and both phones get a BYE, so nothing is half-open and no record is lost.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { type RunningSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.16.52';
const AGENT_IP = '127.0.16.53';
const NUMBER = '+74952216001';
const CALLS = 3;

let h: Harness;
let node: ChildProcess | undefined;
let agent: RunningSipp | undefined;
let caller: RunningSipp | undefined;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-node-'));
let agentTarget: string;

/** Starts the node process on the test's schema and data directory; resolves with its SIP port. */
async function startNode(): Promise<number> {
  // node itself, not the tsx wrapper: SIGKILL must hit the process that holds the calls.
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/cluster/node-child.ts', '127.0.0.1', CALLER_IP, agentTarget, NUMBER, h.schema, dataDir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  node = child;
  const lines = readline.createInterface({ input: child.stdout! });
  return new Promise<number>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.startsWith('{"sipPort"')) resolve(JSON.parse(line).sipPort);
    });
    child.once('exit', (code) => reject(new Error(`node process exited early (${code})`)));
  });
}

const callsOf = async () =>
  (
    await h.db.query<{ id: string; disposition: string; hangup_by: string; talk_seconds: number; answered_at: Date | null; recording_status: string }>(
      'SELECT id, disposition, hangup_by, talk_seconds, answered_at, recording_status FROM calls',
    )
  ).rows;

beforeAll(async () => {
  h = await createHarness();
  const agentPort = await freePort(AGENT_IP);
  agentTarget = `sip:agent@${AGENT_IP}:${agentPort}`;
  agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: CALLS, timeoutSeconds: 60 });
}, 60_000);

afterAll(async () => {
  caller?.stop();
  agent?.stop();
  node?.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 500));
  node?.kill('SIGKILL');
  await h?.close();
});

it('stores the calls a killed node was on, and ends their media, when it restarts', async () => {
  const sipPort = await startNode();
  caller = await startSipp({
    scenario: scenarioPath('uac-expect-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${sipPort}`,
    service: NUMBER.slice(1),
    calls: CALLS,
    rate: 10,
    timeoutSeconds: 60,
  });
  // Answered and talking (the journal notes each call on admission, attribution and answer).
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  node!.kill('SIGKILL');
  await new Promise((resolve) => node!.once('exit', resolve));
  expect(await callsOf()).toEqual([]);
  const journal = path.join(dataDir, 'spool', 'live-calls.jsonl');
  const open = new Set<string>();
  for (const line of fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as { t: string; id: string };
    if (entry.t === 'n') open.add(entry.id);
    else open.delete(entry.id);
  }
  expect(open.size).toBe(CALLS);
  for (const id of open) expect((await h.rtpengine.command('query', { 'call-id': id })).result).toBe('ok');

  await startNode();
  const rows = await callsOf();
  expect(rows.map((r) => r.id).sort()).toEqual([...open].sort());
  for (const row of rows) {
    expect(row).toMatchObject({ disposition: 'answered', hangup_by: 'system' });
    expect(row.answered_at).not.toBeNull();
    expect(row.talk_seconds).toBeGreaterThanOrEqual(1);
    expect(row.recording_status).not.toBe('none');
    // The media relay no longer holds the dead node's sessions.
    expect((await h.rtpengine.command('query', { 'call-id': row.id })).result).toBe('error');
  }
  expect(fs.readFileSync(journal, 'utf8')).toBe('');
  // Both phones of each call got a BYE from the restarted node: SIPp on each side ends every call cleanly.
  const [callerResult, agentResult] = await Promise.all([caller.done, agent!.done]);
  expect(callerResult.code, callerResult.errors).toBe(0);
  expect(agentResult.code, agentResult.errors).toBe(0);
}, 90_000);
