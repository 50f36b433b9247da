/** 50 sign-ins per second on the same process do not fail a concurrent SIPp call run. */
import crypto from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasswordHasher } from '../../server/users/password-hasher.js';
import { createUserService } from '../../server/users/users.service.js';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.14.10';
const AGENT_IP = '127.0.14.11';
const NUMBER = '+74951401401';
const CALLS = 30;
let h: Harness;
let server: CallServer;
let agentPort: number;
const hasher = createPasswordHasher();

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, {
    dialplans: { signin: { record: false, steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 10 } }] } },
    convertRecordings: false,
  });
  await server.provisionNumber({ number: NUMBER, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'signin' });
});
afterAll(async () => {
  await server?.stop();
  await hasher.close();
  await h?.close();
});

describe('sign-ins during calls', () => {
  it('every call of a SIPp run is answered while 50 sign-ins/s arrive', async () => {
    const users = createUserService({ db: h.db, secret: h.config.secretKey, hasher });
    // No global limit here: every sign-in costs a bcrypt check, the worst case for the event loop.
    const app = await h.buildApp({ stores: { config: { ...h.config, signInPerSecond: 10_000 } }, overrides: { users } });
    // What one bcrypt check costs on this machine now, on the main thread.
    const stored = bcrypt.hashSync('reference', 10);
    const t0 = performance.now();
    bcrypt.compareSync('not the reference', stored);
    const oneHashMs = performance.now() - t0;
    const before = server.ended.length;
    const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, calls: CALLS, timeoutSeconds: 60 });

    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    let signIns = 0;
    const answered: number[] = [];
    const ticker = setInterval(() => {
      signIns++;
      void app
        .inject({
          method: 'POST',
          url: '/v1/auth/sign-in',
          remoteAddress: `10.14.${signIns >> 8}.${signIns & 255}`,
          payload: { email: `${crypto.randomBytes(6).toString('hex')}@example.com`, password: 'a wrong but long password' },
        })
        .then((res) => answered.push(res.statusCode));
    }, 20);
    const caller = await runSipp({
      scenario: 'uac',
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: NUMBER.slice(1),
      calls: CALLS,
      rate: 10,
      limit: 20,
      timeoutSeconds: 60,
      extraArgs: ['-d', '1000'],
    });
    clearInterval(ticker);
    delay.disable();
    agent.stop();
    // Two workers check ~25 passwords/s: the rest of the backlog is still queued (off the event loop) and not awaited.
    const statuses = [...answered];

    expect(caller.code, caller.errors + caller.stderr).toBe(0);
    const deadline = Date.now() + 10_000;
    while (server.ended.length - before < CALLS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const records = server.ended.slice(before);
    expect(records.filter((r) => r.disposition === 'answered')).toHaveLength(CALLS);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status === 401)).toBe(true);
    console.info(
      `${signIns} sign-ins during ${CALLS} calls; event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`,
    );
    // With bcrypt on the main thread the loop stalls for whole hashes (and the 20 ms ticker cannot even keep 50/s).
    // p99 rather than max: on a shared 2-core machine other processes can deschedule us for a moment.
    expect(delay.percentile(99) / 1e6).toBeLessThan(oneHashMs);
    expect(signIns).toBeGreaterThanOrEqual(100);
  }, 60_000);
});
