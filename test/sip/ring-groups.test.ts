// Ring groups over real SIP: the B2BUA forks to several agents and keeps exactly one.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { makeToneFile, runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.18';
const IPS = { ringing: '127.0.0.14', answering: '127.0.0.15', busy: '127.0.0.16', second: '127.0.0.17' } as const;
const NUMBERS = { together: '+74953335501', inTurn: '+74953335502' } as const;
let h: Harness;
let server: CallServer;
let tone: string;
const ports: Record<string, number> = {};
const uri = (who: keyof typeof IPS) => `sip:${who}@${IPS[who]}:${ports[who]}`;

beforeAll(async () => {
  h = await createHarness();
  for (const [who, ip] of Object.entries(IPS)) ports[who] = await freePort(ip);
  server = await startCallServer(h, {
    dialplans: {
      together: { steps: [{ forward: { targets: [uri('ringing'), uri('answering')], strategy: 'simultaneous', ringSeconds: 6 } }] },
      'in-turn': { steps: [{ forward: { targets: [uri('busy'), uri('second')], strategy: 'sequential', ringSeconds: 4 } }] },
    },
  });
  const trunk = await server.provisionNumber({ number: NUMBERS.together, trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'together' });
  const res = await server.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: NUMBERS.inTurn, trunkId: trunk.trunkId, dialplan: 'in-turn' },
  });
  expect(res.statusCode, res.body).toBe(201);
  await server.routing.refresh();
  tone = makeToneFile(fs.mkdtempSync(path.join(os.tmpdir(), 'tone-')), 1000, 1);
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const call = (number: string) =>
  runSipp({
    scenario: scenarioPath('uac-tone-bye.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: number.slice(1),
    vars: { TONE: tone, TALK_MS: '1000' },
  });

describe('ring groups', () => {
  it('simultaneous: the first agent to answer gets the call, the other is cancelled (200 to CANCEL, 487, our ACK)', async () => {
    const ringing = await startSipp({ scenario: scenarioPath('uas-ring-forever.xml'), ip: IPS.ringing, port: ports.ringing! });
    const answering = await startSipp({ scenario: 'uas', ip: IPS.answering, port: ports.answering!, rtpEcho: true });
    const caller = await call(NUMBERS.together);
    expect(caller.code, caller.errors).toBe(0);
    const ringingResult = await ringing.done;
    expect(ringingResult.code, `the ringing agent saw CANCEL and our ACK to its 487: ${ringingResult.errors}`).toBe(0);
    answering.stop();
    const record = await server.waitForCall((r) => r.trackingNumber === NUMBERS.together);
    expect(record).toMatchObject({ disposition: 'answered', answeredBy: uri('answering'), hangupBy: 'caller' });
    expect((await h.rtpengine.command('query', { 'call-id': record.id })).result).not.toBe('ok');
  });

  it('sequential: a busy first agent is skipped and the second answers', async () => {
    const busy = await startSipp({ scenario: scenarioPath('uas-reject.xml'), ip: IPS.busy, port: ports.busy!, vars: { STATUS: '486', REASON: 'Busy Here' } });
    const second = await startSipp({ scenario: 'uas', ip: IPS.second, port: ports.second!, rtpEcho: true });
    const caller = await call(NUMBERS.inTurn);
    expect(caller.code, caller.errors).toBe(0);
    expect((await busy.done).code, 'the busy agent got our ACK for its 486').toBe(0);
    second.stop();
    const record = await server.waitForCall((r) => r.trackingNumber === NUMBERS.inTurn);
    expect(record).toMatchObject({ disposition: 'answered', answeredBy: uri('second') });
    expect(server.b2bua.liveCalls()).toBe(0);
  });
});
