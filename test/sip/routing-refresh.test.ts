// Provisioning through the HTTP API reaches the SIP edge by itself (onRoutingChange → routing
// cache refresh): no restart, no manual refresh, and a removed number stops routing at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const CALLER_IP = '127.0.0.19';
const AGENT_IP = '127.0.0.20';
const NUMBER = '+74953336601';
let h: Harness;
let server: CallServer;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, { dialplans: { live: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } } });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

const expectStatus = (status: number) =>
  runSipp({
    scenario: scenarioPath('uac-expect-status.xml'),
    ip: CALLER_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: NUMBER.slice(1),
    vars: { STATUS: String(status) },
  });

describe('routing follows provisioning', () => {
  it('refuses an unknown caller, then routes a number created over HTTP, then 404s it once deleted', async () => {
    expect((await expectStatus(403)).code, 'no trunk owns the caller yet').toBe(0);
    const trunk = await server.app.inject({
      method: 'POST',
      url: '/v1/trunks',
      headers: h.adminHeaders,
      payload: { name: 'live-carrier', addresses: [`${CALLER_IP}/32`] },
    });
    expect(trunk.statusCode, trunk.body).toBe(201);
    const created = await server.app.inject({
      method: 'POST',
      url: '/v1/numbers',
      headers: h.adminHeaders,
      payload: { number: NUMBER, trunkId: trunk.json().id, dialplan: 'live' },
    });
    expect(created.statusCode, created.body).toBe(201);

    // No routing.refresh() here: the API's change hook must have done it.
    const agent = await startSipp({ scenario: scenarioPath('uas-reject.xml'), ip: AGENT_IP, port: agentPort, vars: { STATUS: '486', REASON: 'Busy Here' } });
    const busy = await expectStatus(486);
    expect(busy.code, busy.errors).toBe(0);
    expect((await agent.done).code).toBe(0);

    const removed = await server.app.inject({ method: 'DELETE', url: `/v1/numbers/${encodeURIComponent(NUMBER)}`, headers: h.adminHeaders });
    expect(removed.statusCode, removed.body).toBe(204);
    const gone = await expectStatus(404);
    expect(gone.code, gone.errors).toBe(0);
  });
});
