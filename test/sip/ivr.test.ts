import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DtmfListener } from '../../server/media/dtmf-listener.js';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { acquireDtmfListener } from '../helpers/dtmf-port.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.6';
let h: Harness;
let server: CallServer;
let dtmf: DtmfListener;
let salesPort: number;
let supportPort: number;

beforeAll(async () => {
  h = await createHarness();
  salesPort = await freePort('127.0.0.3');
  supportPort = await freePort('127.0.0.4');
  dtmf = await acquireDtmfListener(h);
  server = await startCallServer(h, {
    dtmf,
    dialplans: {
      menu: {
        steps: [
          {
            menu: {
              prompt: 'ivr-menu.wav',
              timeoutSeconds: 6,
              retries: 0,
              options: {
                1: [{ forward: { targets: [`sip:sales@127.0.0.3:${salesPort}`], ringSeconds: 5 } }],
                2: [{ forward: { targets: [`sip:support@127.0.0.4:${supportPort}`], ringSeconds: 5 } }],
              },
              default: [{ hangup: { status: 480 } }],
            },
          },
        ],
      },
    },
  });
  await server.provisionNumber({ number: '+74957654321', trunkAddresses: [`${CALLER_IP}/32`], dialplan: 'menu' });
});
afterAll(async () => {
  await server?.stop();
  await dtmf?.close();
  await h?.close();
});

describe('IVR menu', () => {
  it('routes the call to the branch of the DTMF digit the caller pressed', async () => {
    const support = await startSipp({ scenario: 'uas', ip: '127.0.0.4', port: supportPort, rtpEcho: true });
    const caller = await runSipp({
      scenario: scenarioPath('uac-dtmf-then-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: '74957654321',
      vars: { DTMF: '/usr/share/sip-tester/dtmf_2833_2.pcap', TALK_MS: '3000' },
    });
    support.stop();
    expect(caller.code, caller.errors).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === '+74957654321');
    expect(call).toMatchObject({ ivrDigits: '2', disposition: 'answered', answeredBy: `sip:support@127.0.0.4:${supportPort}` });
  });

  it('takes a key the caller’s gateway sends as SIP INFO (dtmf-relay) like one in the RTP', async () => {
    const earlier = new Set(server.ended.map((r) => r.id));
    const sales = await startSipp({ scenario: 'uas', ip: '127.0.0.3', port: salesPort, rtpEcho: true });
    const caller = await runSipp({
      scenario: scenarioPath('uac-info-dtmf-then-bye.xml'),
      ip: CALLER_IP,
      target: `127.0.0.1:${server.sipPort}`,
      service: '74957654321',
      vars: { KEY: '1', TALK_MS: '2000' },
    });
    sales.stop();
    expect(caller.code, caller.errors).toBe(0);
    const call = await server.waitForCall((r) => r.trackingNumber === '+74957654321' && !earlier.has(r.id));
    expect(call).toMatchObject({ ivrDigits: '1', disposition: 'answered', answeredBy: `sip:sales@127.0.0.3:${salesPort}` });
  });
});
