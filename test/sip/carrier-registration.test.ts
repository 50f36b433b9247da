// Registration to the carrier: a trunk whose outbound side says `register: true` REGISTERs with the
// gateway, answers its 401 with the trunk's credentials, and the trunks API shows the result.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CallServer, startCallServer } from '../helpers/call-server.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { freePort } from '../helpers/ports.js';
import { scenarioPath, startSipp } from '../helpers/sipp.js';

const GATEWAY_IP = '127.0.21.2';
let h: Harness;
let server: CallServer;

beforeAll(async () => {
  h = await createHarness();
  server = await startCallServer(h);
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
  return result;
}

it('registers with the carrier, answering its digest challenge, and shows until when', async () => {
  const registration = await registrationOf('gw-secret');
  expect(registration).toMatchObject({ state: 'registered', lastError: null });
  // The carrier granted 120 s of the 300 asked.
  const seconds = (Date.parse(registration!.registeredUntil!) - Date.now()) / 1000;
  expect(seconds).toBeGreaterThan(100);
  expect(seconds).toBeLessThanOrEqual(120);
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
