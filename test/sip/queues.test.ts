// Call queues over real SIP (SIPp callers and agents, rtpengine): 4 callers and 2 agents. Callers
// wait with their position announced; agents get calls longest-idle first with wrap-up respected;
// a caller who hangs up while waiting is counted as abandoned; the maximum wait and a queue with
// nobody logged in go on to voicemail. GET /v1/live streams every change within a second.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveSnapshot } from '../../server/pbx/live-board.js';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, registerPhone, runSipp, scenarioPath, startSipp, type RunningSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.24.1';
const AGENT_IPS = { '401': '127.0.24.2', '402': '127.0.24.3' } as const;
const NUMBERS = { support: '+74957440001', empty: '+74957440002' } as const;
const WRAP_UP_SECONDS = 2;
let h: Harness;
let server: CallServer;
let base: string;
let tone: string;
const agents: RunningSipp[] = [];
const snapshots: Array<{ at: number; snapshot: LiveSnapshot }> = [];
let stream: http.ClientRequest | undefined;

/** uac-tone-bye.xml calling from another number. */
function scenarioFrom(callerNumber: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scenario-')), 'uac.xml');
  fs.writeFileSync(file, fs.readFileSync(scenarioPath('uac-tone-bye.xml'), 'utf8').replaceAll('79161234567', callerNumber));
  return file;
}
/** A caller; TALK_MS counts from our 200 OK, which a queued caller gets when the announcement starts. */
const call = (number: string, from: string, talkMs: number) =>
  runSipp({
    scenario: scenarioFrom(from),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: number.slice(1),
    vars: { TONE: tone, TALK_MS: String(talkMs) },
    timeoutSeconds: 60,
  });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const api = (method: 'POST' | 'PUT' | 'GET', url: string, payload?: object) =>
  server.app.inject({ method, url, headers: h.adminHeaders, ...(payload ? { payload } : {}) });
const recordOf = (caller: string) => {
  const found = server.ended.find((r) => r.caller === caller);
  if (!found) throw new Error(`no record for ${caller}`);
  return found;
};

beforeAll(async () => {
  h = await createHarness();
  server = await startCallServer(h, {
    dialplans: {
      queued: { steps: [{ queue: 'support' }, { voicemail: { maxSeconds: 5 } }] },
      nobody: { record: false, steps: [{ queue: 'empty' }, { voicemail: { maxSeconds: 5 } }] },
    },
  });
  const trunk = await server.provisionNumber({ number: NUMBERS.support, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'queued' });
  expect((await api('POST', '/v1/numbers', { number: NUMBERS.empty, trunkId: trunk.trunkId, dialplan: 'nobody' })).statusCode).toBe(201);
  // The support number is printed on a flyer: the wallboard's screen pop shows it.
  const flyer = await api('POST', '/v1/sources', { name: 'Metro flyer', kind: 'offline', channel: 'flyer', campaign: 'december', numbers: [NUMBERS.support] });
  expect(flyer.statusCode, flyer.body).toBe(201);
  await server.routing.refresh();
  for (const [name, members] of [
    ['support', ['extension:401', 'extension:402']],
    ['empty', ['extension:499']],
  ] as const) {
    const queue = await api('POST', '/v1/queues', {
      name,
      members,
      strategy: 'longest-idle',
      ringSeconds: 5,
      wrapUpSeconds: WRAP_UP_SECONDS,
      maxWaitSeconds: 6,
      announceSeconds: 30,
      serviceLevelSeconds: 20,
    });
    expect(queue.statusCode, queue.body).toBe(201);
  }
  tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
  for (const [extension, ip] of Object.entries(AGENT_IPS)) {
    const created = (await api('POST', '/v1/extensions', { extension, name: `Agent ${extension}` })).json();
    const port = await freePort(ip);
    const registered = await registerPhone({
      ip,
      target: `127.0.0.1:${server.sipPort}`,
      username: created.sipUsername,
      password: created.sipPassword,
      contactPort: port,
    });
    expect(registered.code, registered.errors).toBe(0);
    agents.push(await startSipp({ scenario: 'uas', ip, port, rtpEcho: true, calls: 20, timeoutSeconds: 120 }));
  }
  // The wallboard, as a browser would read it.
  base = await server.app.listen({ host: '127.0.0.1', port: 0 });
  stream = http.get(`${base}/v1/live`, { headers: h.adminHeaders }, (res) => {
    expect(res.statusCode).toBe(200);
    let buffer = '';
    res.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(event)?.[1];
        if (/^event: snapshot$/m.test(event) && data) snapshots.push({ at: Date.now(), snapshot: JSON.parse(data) });
      }
    });
  });
  stream.on('error', () => undefined); // destroyed in afterAll
  for (let i = 0; i < 50 && snapshots.length === 0; i++) await sleep(100);
  expect(snapshots.length).toBeGreaterThan(0);
}, 60_000);
afterAll(async () => {
  stream?.destroy();
  for (const agent of agents) agent.stop();
  await server?.stop();
  await h?.close();
});

describe('call queues', () => {
  it('distributes longest-idle with wrap-up, announces positions, counts an abandon; the wallboard follows within a second', async () => {
    // Two callers take both agents; the third waits and hangs up; the fourth waits for the first free agent.
    const first = call(NUMBERS.support, '79990000001', 2500);
    await sleep(150);
    const second = call(NUMBERS.support, '79990000002', 5000);
    await sleep(400);
    const abandoning = call(NUMBERS.support, '79990000003', 1500);
    await sleep(150);
    const patient = call(NUMBERS.support, '79990000004', 9000);
    for (const result of await Promise.all([first, second, abandoning, patient])) expect(result.code, result.errors).toBe(0);
    // Both agents are idle now; 402's last call ended before 401's: longest idle takes the next call.
    await expect.poll(() => server.ended.length, { timeout: 10_000 }).toBe(4);
    await sleep(WRAP_UP_SECONDS * 1000 + 300);
    const fifth = await call(NUMBERS.support, '79990000005', 500);
    expect(fifth.code, fifth.errors).toBe(0);
    await expect.poll(() => server.ended.length, { timeout: 10_000 }).toBe(5);

    const [c1, c2, c3, c4, c5] = ['+79990000001', '+79990000002', '+79990000003', '+79990000004', '+79990000005'].map(recordOf);
    expect([c1!.answeredTarget, c2!.answeredTarget]).toEqual(['extension:401', 'extension:402']);
    expect(c3).toMatchObject({ answeredAt: null, queueName: 'support', queueOutcome: 'abandoned' });
    expect(c4).toMatchObject({ answeredTarget: 'extension:401', queueOutcome: 'answered', queueWithinServiceLevel: true });
    // Wrap-up: 401 got its next call no sooner than its wrap-up after the first ended.
    expect(Date.parse(c4!.answeredAt!) - Date.parse(c1!.endedAt)).toBeGreaterThanOrEqual(WRAP_UP_SECONDS * 1000 - 100);
    expect(c4!.queueWaitSeconds).toBeGreaterThanOrEqual(3);
    expect(c5).toMatchObject({ answeredTarget: 'extension:402', queueOutcome: 'answered' });
    // The call log tells the queue story too.
    expect((await api('GET', `/v1/calls/${c3!.id}`)).json().queue).toMatchObject({ name: 'support', outcome: 'abandoned', withinServiceLevel: false });

    await sleep(1200); // the stream's last snapshots
    // The wallboard saw both waiting callers with the positions they were told.
    // (A caller may show up waiting a snapshot before it is told its position: null until then.)
    const waitingSeen = snapshots.flatMap((s) => s.snapshot.queues.find((q) => q.name === 'support')?.waiting ?? []);
    const firstTold = (caller: string) => waitingSeen.find((w) => w.caller === caller && w.announcedPosition != null)?.announcedPosition;
    expect(firstTold('+79990000003')).toBe(1);
    expect(firstTold('+79990000004')).toBe(2);
    // Each call appeared within a second of its start and left within a second of its end.
    for (const record of [c1!, c2!, c3!, c4!, c5!]) {
      const shown = snapshots.find((s) => s.snapshot.calls.some((c) => c.callId === record.id));
      expect(shown, `call ${record.caller} never shown`).toBeDefined();
      expect(shown!.at - Date.parse(record.startedAt)).toBeLessThan(1000);
      const gone = snapshots.find((s) => s.at >= Date.parse(record.endedAt) && !s.snapshot.calls.some((c) => c.callId === record.id));
      expect(gone, `call ${record.caller} never left the board`).toBeDefined();
      expect(gone!.at - Date.parse(record.endedAt)).toBeLessThan(1000);
    }
    // The screen pop: where the caller came from, shown while the call is live.
    const live = snapshots.flatMap((s) => s.snapshot.calls).find((c) => c.caller === '+79990000001' && c.source);
    expect(live).toMatchObject({ source: 'Metro flyer', campaign: 'december', firstTime: true, priorCalls: 0 });
    const last = snapshots.at(-1)!.snapshot;
    expect(last.today).toMatchObject({ answered: 4, abandoned: 1 });
    expect(last.queues.find((q) => q.name === 'support')?.agents.map((a) => a.extension)).toEqual(['401', '402']);
  }, 90_000);

  it('goes on to voicemail after the maximum wait (agents paused) and at once when nobody is logged in', async () => {
    for (const extension of ['401', '402']) expect((await api('PUT', `/v1/agents/${extension}/status`, { status: 'paused' })).statusCode).toBe(200);
    await expect
      .poll(() =>
        snapshots
          .at(-1)
          ?.snapshot.queues.find((q) => q.name === 'support')
          ?.agents.map((a) => a.state),
      )
      .toEqual(['paused', 'paused']);
    const waiting = await call(NUMBERS.support, '79990000006', 9000);
    expect(waiting.code, waiting.errors).toBe(0);
    expect(recordOf('+79990000006')).toMatchObject({ disposition: 'voicemail', queueOutcome: 'timeout', queueWaitSeconds: 6 });
    const nobody = await call(NUMBERS.empty, '79990000007', 1500);
    expect(nobody.code, nobody.errors).toBe(0);
    expect(recordOf('+79990000007')).toMatchObject({ disposition: 'voicemail', queueOutcome: 'no-agents', queueWaitSeconds: 0 });
    for (const extension of ['401', '402']) await api('PUT', `/v1/agents/${extension}/status`, { status: 'available' });
    expect((await api('PUT', '/v1/agents/777/status', { status: 'paused' })).statusCode).toBe(404);
  }, 60_000);
});
