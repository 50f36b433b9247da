// Registration to the carrier: a trunk whose outbound side says `register: true` REGISTERs with the
// gateway, answers its 401 with the trunk's credentials, and the trunks API shows the result.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { runSipp, scenarioPath, startSipp } from '../helpers/sipp.js';

const GATEWAY_IP = '127.0.21.2';
const AGENT_IP = '127.0.21.3';
const DID = '+74957770033';
let h: Harness;
let server: CallServer;
let agentPort: number;

beforeAll(async () => {
  h = await createHarness();
  agentPort = await freePort(AGENT_IP);
  server = await startCallServer(h, { dialplans: { desk: { steps: [{ forward: { targets: [`sip:agent@${AGENT_IP}:${agentPort}`], ringSeconds: 5 } }] } } });
});
afterAll(async () => {
  await server?.stop();
  await h?.close();
});

async function registrationOf(password: string) {
  const port = await freePort(GATEWAY_IP);
  const registrar = await startSipp({ scenario: scenarioPath('uas-registrar-challenge.xml'), ip: GATEWAY_IP, port, timeoutSeconds: 20 });
  const trunk = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: `carrier-${password}`, outbound: { host: GATEWAY_IP, port, username: 'gw-user', password, register: true, registerSeconds: 300 } },
  });
  expect(trunk.statusCode, trunk.body).toBe(201);
  const read = async () =>
    (await server.app.inject({ method: 'GET', url: `/v1/trunks/${trunk.json().id}`, headers: h.adminHeaders })).json().outbound.registration as {
      state: string;
      registeredUntil: string | null;
      lastError: string | null;
    } | null;
  // Until the first attempt ends: no registration shown yet (null) is not an outcome either.
  await expect.poll(async () => (await read())?.state, { timeout: 10_000 }).toMatch(/^(registered|failed)$/);
  const result = await read();
  registrar.stop();
  await registrar.done;
  return { ...result, trunkId: trunk.json().id as string };
}

it('registers with the carrier, answering its digest challenge, and shows until when', async () => {
  const registration = await registrationOf('gw-secret');
  expect(registration).toMatchObject({ state: 'registered', lastError: null });
  // The carrier granted 120 s of the 300 asked.
  const seconds = (Date.parse(registration.registeredUntil!) - Date.now()) / 1000;
  expect(seconds).toBeGreaterThan(100);
  expect(seconds).toBeLessThanOrEqual(120);

  // The carrier then sends a call to our registered contact (sip:gw-user@us), the number in To: the
  // trunk has no address of its own, the gateway's is enough.
  const number = await server.app.inject({
    method: 'POST',
    url: '/v1/numbers',
    headers: h.adminHeaders,
    payload: { number: DID, trunkId: registration.trunkId, dialplan: 'desk' },
  });
  expect(number.statusCode, number.body).toBe(201);
  await server.routing.refresh();
  const agent = await startSipp({ scenario: 'uas', ip: AGENT_IP, port: agentPort, timeoutSeconds: 20 });
  const caller = await runSipp({
    scenario: scenarioPath('uac-to-registered-contact.xml'),
    ip: GATEWAY_IP,
    target: `127.0.0.1:${server.sipPort}`,
    service: 'gw-user',
    vars: { DID: DID.slice(1) },
    extraArgs: ['-d', '300'],
    timeoutSeconds: 20,
  });
  agent.stop();
  expect(caller.code, caller.errors + caller.stderr).toBe(0);
  const call = await server.waitForCall((r) => r.trackingNumber === DID);
  expect(call).toMatchObject({ disposition: 'answered', hangupBy: 'caller' });
});

it('shows the carrier refusing wrong credentials', async () => {
  expect(await registrationOf('wrong-secret')).toMatchObject({ state: 'failed', registeredUntil: null, lastError: '403 Forbidden' });
});

it('refuses registering without credentials', async () => {
  const res = await server.app.inject({
    method: 'POST',
    url: '/v1/trunks',
    headers: h.adminHeaders,
    payload: { name: 'x', outbound: { host: 'gw.example', register: true } },
  });
  expect(res.statusCode).toBe(400);
  expect(res.json().message).toContain('outbound.register');
});
