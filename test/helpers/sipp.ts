/**
 * SIPp peers for end-to-end tests. Each peer gets its own loopback address (127.0.0.x) and random
 * ports so test files can run side by side.
 *
 * @example
 *   const agent = startSipp({ scenario: 'uas', ip: '127.0.0.2', port: await freePort('127.0.0.2') });
 *   const caller = await runSipp({ scenario: scenarioPath('uac-tone-bye.xml'), ip: '127.0.0.5', target: `127.0.0.1:${sipPort}`, service: '+74951234567' });
 *   expect(caller.code).toBe(0);
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, freeUdpPorts } from './ports.js';

export const scenarioPath = (name: string) => path.resolve(import.meta.dirname, '../sip/scenarios', name);

export interface SippOptions {
  /** A built-in name ('uas', 'uac') or a scenario file path. */
  scenario: string;
  ip: string;
  port?: number;
  target?: string;
  /** The dialled user part (-s). */
  service?: string;
  calls?: number;
  rate?: number;
  /** Concurrent call limit (-l). */
  limit?: number;
  extraArgs?: string[];
  rtpEcho?: boolean;
  timeoutSeconds?: number;
  cwd?: string;
  /** Replaces {{NAME}} in the scenario file (tone file, talk time: things SIPp cannot inject). */
  vars?: Record<string, string>;
}

export interface SippResult {
  code: number | null;
  stdout: string;
  stderr: string;
  errors: string;
}

function scenarioArgs(o: SippOptions, workDir: string): string[] {
  if (!o.scenario.endsWith('.xml')) return ['-sn', o.scenario];
  if (!o.vars) return ['-sf', o.scenario];
  let xml = fs.readFileSync(o.scenario, 'utf8');
  for (const [k, v] of Object.entries(o.vars)) xml = xml.replaceAll(`{{${k}}}`, v);
  const file = path.join(workDir, path.basename(o.scenario));
  fs.writeFileSync(file, xml);
  return ['-sf', file];
}

function argsFor(o: SippOptions, port: number, mediaPort: number, workDir: string): string[] {
  const args = [
    ...(o.target ? [o.target] : []),
    ...scenarioArgs(o, workDir),
    '-i',
    o.ip,
    '-p',
    String(port),
    '-mi',
    o.ip,
    '-mp',
    String(mediaPort),
    '-m',
    String(o.calls ?? 1),
    '-nostdin',
    '-trace_err',
    '-error_file',
    path.join(workDir, 'errors.log'),
    '-timeout',
    `${o.timeoutSeconds ?? 30}s`,
    '-timeout_error',
    '-max_recv_loops',
    '1000',
  ];
  if (o.service) args.push('-s', o.service);
  if (o.rate) args.push('-r', String(o.rate));
  if (o.limit) args.push('-l', String(o.limit));
  if (o.rtpEcho) args.push('-rtp_echo');

  return [...args, ...(o.extraArgs ?? [])];
}

export interface RunningSipp {
  port: number;
  process: ChildProcess;
  done: Promise<SippResult>;
  stop(): void;
}

const STOP_GRACE_MS = 300;
/** SIPp processes told to stop whose grace has not run out: a test process exiting first must not orphan them. */
const stopping = new Set<ChildProcess>();

/**
 * Ends the grace of every SIPp told to stop: a test file's teardown calls it (through the harness),
 * since its worker may be gone before the grace runs out and would leave them running.
 */
export function endSippGrace(): void {
  for (const child of stopping) child.kill('SIGTERM');
  stopping.clear();
}
process.once('exit', endSippGrace);

/** The SIPp processes still running per ip:port: `stop()` only signals, and SIPp takes a moment to exit. */
const holding = new Map<string, { child: ChildProcess; done: Promise<unknown> }>();

/**
 * Waits for the SIPp that last held `address` to exit. One that is still there after a few seconds
 * (a failed test's, or one slow to quit on a loaded box) is killed: left alone it keeps the port,
 * the new SIPp fails to bind, and the next call rings a process that no longer answers.
 */
async function releaseAddress(address: string): Promise<void> {
  const holder = holding.get(address);
  if (!holder) return;
  const exited = await Promise.race([holder.done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3_000))]);
  if (exited) return;
  holder.child.kill('SIGKILL');
  await Promise.race([holder.done, new Promise((r) => setTimeout(r, 2_000))]);
}

/** Starts SIPp in the background (an agent, usually). */
export async function startSipp(o: SippOptions): Promise<RunningSipp> {
  const port = o.port ?? (await freePort(o.ip));
  // A test that reuses an agent's address right after stopping the last one would otherwise race its
  // exit: the new SIPp fails to bind, and the call finds nobody to answer.
  const address = `${o.ip}:${port}`;
  await releaseAddress(address);
  const mediaPort = await freeUdpPorts(o.ip, 4);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipp-'));
  const child = spawn('sipp', argsFor(o, port, mediaPort, workDir), { cwd: o.cwd ?? workDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<SippResult>((resolve) =>
    child.on('close', (code) => {
      const errorsFile = path.join(workDir, 'errors.log');
      const errors = fs.existsSync(errorsFile) ? fs.readFileSync(errorsFile, 'utf8') : '';
      resolve({ code, stdout, stderr, errors });
    }),
  );
  holding.set(address, { child, done });
  void done.then(() => {
    if (holding.get(address)?.done === done) holding.delete(address);
  });
  // Calls must not arrive before SIPp owns its socket: on a loaded box its start takes longer than
  // any fixed pause (a call then found nobody and failed as "no answer").
  const tcp = (o.extraArgs ?? []).some((arg, i, all) => arg === '-t' && all[i + 1]?.startsWith('t'));
  const deadline = Date.now() + 5_000;
  let exited = false;
  void done.then(() => {
    exited = true;
  });
  while (!exited && Date.now() < deadline && !(await portTaken(o.ip, port, tcp))) await new Promise((r) => setTimeout(r, 20));
  // An agent stopped the moment its caller finished may not have read the B2BUA's BYE yet: killed
  // then, it leaves the BYE to be retransmitted to whatever SIPp takes the port next, which counts
  // it as a call of its own and no longer answers the one the test places.
  const stop = () => {
    stopping.add(child);
    setTimeout(() => child.kill('SIGTERM'), STOP_GRACE_MS);
  };
  void done.then(() => stopping.delete(child));
  return { port, process: child, done, stop };
}

/**
 * Whether some process holds `ip:port` (a bound UDP socket, or a listening TCP one), read from
 * /proc/net: looking must not bind the port, or SIPp starting that instant would lose it.
 */
function portTaken(ip: string, port: number, tcp: boolean): Promise<boolean> {
  const hexIp = ip
    .split('.')
    .map((octet) => Number(octet).toString(16).padStart(2, '0'))
    .reverse()
    .join('')
    .toUpperCase();
  const local = `${hexIp}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
  return fs.promises
    .readFile(tcp ? '/proc/net/tcp' : '/proc/net/udp', 'utf8')
    .then((table) =>
      table.split('\n').some((line) => {
        const fields = line.trim().split(/\s+/);
        // TCP: state 0A is LISTEN; a UDP socket bound to the address is enough.
        return fields[1] === local && (!tcp || fields[3] === '0A');
      }),
    )
    .catch(() => true);
}

/**
 * Registers (or, with `unregister`, removes) a SIPp phone for an extension's SIP account, answering
 * the digest challenge; its Contact names `contactPort` on `ip`.
 */
export function registerPhone(o: { ip: string; target: string; username: string; password: string; contactPort: number; unregister?: boolean }) {
  return runSipp({
    scenario: scenarioPath(o.unregister ? 'uac-unregister-digest-expect-200.xml' : 'uac-register-digest-expect-200.xml'),
    ip: o.ip,
    target: o.target,
    service: 'register',
    vars: { USER: o.username, PASS: o.password, CONTACT_PORT: String(o.contactPort) },
  });
}

/** Runs SIPp to completion (a caller, usually). */
export async function runSipp(o: SippOptions): Promise<SippResult> {
  const s = await startSipp(o);
  return s.done;
}

/** A raw µ-law tone for `<exec rtp_stream="file,loops,0"/>`. */
export function makeToneFile(dir: string, freq: number, seconds: number): string {
  const file = path.join(dir, `tone-${freq}-${seconds}.ulaw`);
  if (!fs.existsSync(file))
    execFileSync('sox', ['-n', '-r', '8000', '-c', '1', '-e', 'u-law', '-t', 'raw', file, 'synth', String(seconds), 'sine', String(freq), 'vol', '0.5']);
  return file;
}
